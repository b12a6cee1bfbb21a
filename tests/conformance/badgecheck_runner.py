"""Run the official Open Badges 2.0 validator (badgecheck 1.2.0) once, offline; print JSON.

Runs under the interpreter of ``.venv-badgecheck`` (see ``scripts/validator-venv.sh``), never
Jalon's. The request is one JSON object, as the first argument or on stdin (``--check`` only imports
the validator)::

    {"input": "<URL | compact JWS | assertion JSON | path to a baked .png/.svg>",
     "recipient": "<email, E.164 telephone or http(s) URL>" | {"email": "..."} | null}

stdout gets ``{"valid", "errors", "warnings", "report"}``, or ``{"valid": false, "crash": ...}``
when the validator itself raised; exit status 0 either way. Exit status 2 means a harness fault
(bad request, validator not importable).

Offline: the OB v2 JSON-LD context is served from the copy badgecheck ships; every other host
except the loopback ones is refused, both at the ``requests`` adapter and at the socket level.
"""

from __future__ import annotations

import collections
import collections.abc
import io
import ipaddress
import json
import os
import socket
import sys
import traceback
import warnings
from typing import Any
from urllib.parse import urlsplit

# python-jose 3.0.1 imports ABCs from ``collections`` (removed in Python 3.10).
for _name in ("Callable", "Iterable", "Mapping", "MutableMapping", "Sequence"):
    setattr(collections, _name, getattr(collections.abc, _name))
warnings.simplefilter("ignore")

import requests  # noqa: E402
import urllib3  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

CONTEXT_URLS = {
    "w3id.org": {"/openbadges/v2", "/openbadges/v2/"},
    "openbadgespec.org": {"/v2/context.json", "/v2/context"},
    "www.openbadgespec.org": {"/v2/context.json", "/v2/context"},
}
DEFAULT_TIMEOUT = 20
EXIT_HARNESS_FAULT = 2


class OfflineError(requests.ConnectionError):
    """A request left the loopback interface."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` names this machine (``localhost`` or a loopback address)."""
    if not host:
        return False
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


_getaddrinfo = socket.getaddrinfo


def _loopback_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if not is_loopback(name):
        raise socket.gaierror(socket.EAI_NONAME, f"offline validator: {name} is not loopback")
    return _getaddrinfo(host, *args, **kwargs)


def context_document() -> bytes:
    """badgecheck's own copy of the OB v2 JSON-LD context."""
    from openbadges.verifier.openbadges_context import OPENBADGES_CONTEXT_V2_DICT

    return json.dumps(OPENBADGES_CONTEXT_V2_DICT).encode()


class OfflineAdapter(HTTPAdapter):
    """Serves the OB v2 context locally, passes loopback requests, refuses everything else."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        host = (parts.hostname or "").lower()
        if parts.path in CONTEXT_URLS.get(host, ()):
            raw = urllib3.HTTPResponse(
                body=io.BytesIO(context_document()),
                headers={"Content-Type": "application/ld+json"},
                status=200,
                reason="OK",
                preload_content=False,
                decode_content=False,
            )
            return self.build_response(request, raw)
        if not is_loopback(host):
            raise OfflineError(f"offline validator refused {request.url}", request=request)
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = DEFAULT_TIMEOUT
        return super().send(request, **kwargs)


def go_offline() -> None:
    """Before badgecheck is imported: give every ``requests`` session the offline adapter and
    let only loopback names resolve."""
    original_init = requests.Session.__init__

    def init(self: requests.Session, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.trust_env = False  # no proxy from the environment: loopback stays direct
        adapter = OfflineAdapter()
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    requests.Session.__init__ = init  # type: ignore[method-assign]
    socket.getaddrinfo = _loopback_getaddrinfo


def recipient_profile(recipient: Any) -> dict[str, Any] | None:
    """A trusted recipient ``Profile`` dict from an identity string or a ready profile."""
    if recipient is None or isinstance(recipient, dict):
        return recipient
    if not isinstance(recipient, str):
        raise ValueError(f"recipient must be a string or an object, not {recipient!r}")
    if recipient.startswith(("http://", "https://")):
        return {"url": recipient}
    if "@" in recipient:
        return {"email": recipient}
    return {"telephone": recipient}


def describe_crash(exc: BaseException) -> str:
    """One line per exception in the chain, innermost cause first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    lines = ["".join(traceback.format_exception_only(type(e), e)).strip() for e in chain]
    return " -> ".join(reversed(lines))


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Validate ``request["input"]`` and summarise badgecheck's report."""
    go_offline()
    from openbadges.verifier import verify
    from openbadges.verifier.utils import CachableDocumentLoader
    from pyld import jsonld

    # pyld's own loader (urllib) serves the few calls badgecheck makes without a loader.
    jsonld.set_document_loader(CachableDocumentLoader(use_cache=False))
    badge_input = request["input"]
    profile = recipient_profile(request.get("recipient"))
    options = {"use_cache": True, "cache_backend": "memory"}
    try:
        if isinstance(badge_input, str) and os.path.isfile(badge_input):
            with open(badge_input, "rb") as image:
                result = verify(image, recipient_profile=profile, **options)
        else:
            result = verify(badge_input, recipient_profile=profile, **options)
    except Exception as exc:  # the validator's own bugs, e.g. on a PNG with nothing baked
        return {"valid": False, "crash": describe_crash(exc), "errors": [], "warnings": []}
    messages = result["report"]["messages"]
    return {
        "valid": bool(result["report"]["valid"]),
        "errors": [m for m in messages if m["messageLevel"] == "ERROR"],
        "warnings": [m for m in messages if m["messageLevel"] == "WARNING"],
        "report": result,
    }


def check() -> int:
    """``--check``: the validator imports under the shims; print its version."""
    from openbadges.verifier import verify  # noqa: F401
    from openbadges.version import VERSION

    print(f"badgecheck {'.'.join(map(str, VERSION))} importable")
    return 0


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        return check()
    raw = argv[1] if len(argv) > 1 else sys.stdin.read()
    try:
        request = json.loads(raw)
        if not isinstance(request, dict) or not isinstance(request.get("input"), str):
            raise ValueError('expected {"input": "<string>", "recipient": ...}')
        recipient_profile(request.get("recipient"))
    except ValueError as exc:
        print(f"badgecheck_runner: bad request: {exc}", file=sys.stderr)
        return EXIT_HARNESS_FAULT
    try:
        result = run(request)
    except ImportError as exc:
        print(f"badgecheck_runner: validator not importable: {exc}", file=sys.stderr)
        return EXIT_HARNESS_FAULT
    json.dump(result, sys.stdout, default=_jsonable)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
