"""The state of one ``verify`` run, and the helpers its checks share (internal).

A check is a function that returns the reason it passed or raises ``_Failed`` with the reason
it did not; ``_Run.step`` records it, and stops the run (``_Stop``) when a prerequisite fails.
The underscored names are the verifier's own, shared by ``inputs`` and ``verifier``.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache, wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from app.openbadges.errors import FetchError
from app.openbadges.revocation import Fetch, RevocationLookup, RevocationStatus
from app.openbadges.signing import ParsedJws
from app.openbadges.verification_result import CHECKS, Check, Verification

# A failure of one of these stops the run: later checks would rest on an unproven assertion.
_PREREQUISITES = frozenset(CHECKS[:8])

_OBI = "https://w3id.org/openbadges#"
_HOSTED = frozenset({"HostedBadge", "hosted", _OBI + "HostedBadge"})
_SIGNED = frozenset({"SignedBadge", "signed", _OBI + "SignedBadge"})
_SPACE = re.compile(r"\s")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_KEPT_LENGTH = 2048
_T = TypeVar("_T")


class _Failed(Exception):
    """The current check fails, for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Stop(Exception):
    """A prerequisite check failed: the run ends here."""


# ----------------------------------------------------------------------------- small helpers


def _short(value: Any, limit: int = 160) -> str:
    """``value`` for a message: strings as they are, anything else as its repr, cut short."""
    text = value[: limit * 2] if isinstance(value, str) else reprlib.repr(value)
    text = _SPACE.sub(" ", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kept(function: Callable[[str], _T]) -> Callable[[str], _T]:
    """``function`` (pure) of a string, its answers kept for short strings: a verifier meets
    the same URLs and reasons again and again. Long strings, rare and possibly hostile, are
    computed each time, so that the caches stay small (1 024 strings of 2 kB at most)."""
    cached = lru_cache(maxsize=1024)(function)

    @wraps(function)
    def call(text: str) -> _T:
        return cached(text) if len(text) <= _KEPT_LENGTH else function(text)

    return call


@_kept
def _sentence(text: str) -> str:
    """``text`` as a sentence: capital first letter, final full stop."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _http_url(value: Any) -> bool:
    """``value`` is an absolute http(s) URL with a host (and a valid port, if any)."""
    return isinstance(value, str) and _http_url_text(value)


@_kept
def _http_url_text(value: str) -> bool:
    """``_http_url`` of a string."""
    if not value or _SPACE.search(value):
        return False
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return False
    return parts.scheme in _DEFAULT_PORTS and bool(parts.hostname)


@_kept
def _origin(url: str) -> str:
    """``scheme://host:port`` with the default port made explicit (``_http_url`` holds)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}:{parts.port or _DEFAULT_PORTS[parts.scheme]}"


def _authority(url: str) -> str:
    return urlsplit(url).netloc.rpartition("@")[2].lower()


def _list_of(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


@lru_cache(maxsize=32)
def _type_names(names: tuple[str, ...]) -> frozenset[str]:
    """The type names ``_has_type`` accepts: short and in the Open Badges namespace."""
    return frozenset(names) | {_OBI + name for name in names}


def _has_type(document: dict[str, Any], *names: str) -> bool:
    wanted, value = _type_names(names), document.get("type")
    if isinstance(value, str):
        return value in wanted
    return isinstance(value, list) and any(isinstance(i, str) and i in wanted for i in value)


def _reference(value: Any) -> str | None:
    """The URL a property points to: the string itself, or an embedded object's ``id``."""
    if isinstance(value, dict):
        value = value.get("id")
    return value if _http_url(value) else None


def _verification_type(document: dict[str, Any]) -> str | None:
    verification = document.get("verification")
    if not isinstance(verification, dict):
        return None
    types = {item for item in _list_of(verification.get("type")) if isinstance(item, str)}
    if types & _HOSTED:
        return "hosted"
    if types & _SIGNED:
        return "signed"
    return None


def _date(document: dict[str, Any], name: str) -> datetime:
    value = document.get(name)
    if not isinstance(value, str):
        raise _Failed(f"the assertion's {name} must be an ISO 8601 date, not {_short(value)}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Failed(f"the assertion's {name} {_short(value)} is not an ISO 8601 date") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _Failed(f"the assertion's {name} {_short(value)} has no time zone")
    return moment


def _text(document: dict[str, Any], name: str, what: str) -> str:
    value = document.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _Failed(f"{what} has no {name}")
    return value


# ------------------------------------------------------------------------------------ the run


@dataclass
class _Run:
    fetch: Fetch
    now: datetime
    revocation: RevocationLookup
    checks: list[Check] = field(default_factory=list)
    method: str | None = None
    assertion: dict[str, Any] | None = None
    fetched_from: str | None = None
    jws: str | None = None
    parsed_jws: ParsedJws | None = None
    refused_jws: str | None = None
    badge_class: dict[str, Any] | None = None
    issuer: dict[str, Any] | None = None
    issuer_id: str = ""
    key: dict[str, Any] | None = None
    key_id: str = ""
    status: RevocationStatus | None = None

    def step(self, code: str, check: Callable[[], str]) -> None:
        """Run ``check`` (it returns the reason it passed) and record it as ``code``."""
        try:
            reason = check()
        except _Failed as failure:
            self.checks.append(Check(code, False, _sentence(failure.reason)))
            if code in _PREREQUISITES:
                raise _Stop from None
        else:
            self.checks.append(Check(code, True, _sentence(reason)))

    def get(self, url: str, what: str) -> dict[str, Any]:
        """The JSON object at ``url`` through the caller's fetch; any error fails the check."""
        try:
            document = self.fetch(url)
        except FetchError as exc:
            raise _Failed(f"{what} could not be fetched from {url}: {_short(str(exc))}") from None
        except Exception as exc:  # the caller's fetch may raise anything: never let it escape
            detail = _short(f"{type(exc).__name__}: {exc}")
            raise _Failed(f"{what} could not be fetched from {url} ({detail})") from None
        if not isinstance(document, dict):
            raise _Failed(f"{what} at {url} is not a JSON object")
        return document

    def get_node(self, url: str, what: str, *, strict: bool = True) -> tuple[dict[str, Any], str]:
        """The document at ``url`` and the URL it was served from, once it states that id.

        A ``.json`` alias (``…/x.json`` whose id is ``…/x``) is followed to the canonical id.
        With ``strict`` false another id is returned as is, for the ``hosted`` check to judge.
        """
        document = self.get(url, what)
        claimed = document.get("id")
        if claimed != url and isinstance(claimed, str) and url == claimed + ".json":
            url, document = claimed, self.get(claimed, what)
            claimed = document.get("id")
        if claimed != url and strict:
            raise _Failed(f"{what} fetched from {url} has the id {_short(claimed)}, not that URL")
        return document, url

    def result(self) -> Verification:
        return Verification(
            valid=bool(self.checks) and all(check.ok for check in self.checks),
            checks=tuple(self.checks),
            method=self.method,
            assertion=self.assertion,
            badge_class=self.badge_class,
            issuer=self.issuer,
            key=self.key,
            revocation=self.status,
        )
