"""The official validator's own ``verify()`` rate, timed inside its interpreter.

Run by ``bench/verification.py`` under ``.venv-badgecheck/bin/python``, never Jalon's. It takes
the offline setup of ``tests/conformance/badgecheck_runner.py`` (the ``collections`` shims,
badgecheck's copy of the OB v2 context, loopback only) and serves the badge documents from an
in-memory dict at the ``requests`` adapter, so that no HTTP server is involved; interpreter
start-up and imports are not timed.

``argv[1]``: a JSON file ``{"documents": {url: {"content_type", "body" (base64)}},
"inputs": [{"name", "text"} | {"name", "image" (base64)}]}``. One JSON object per line on
stdout: first ``{"ready": true, "results": [...]}`` after one untimed pass over the inputs
(each result: name, valid, errors), then, for each line ``round N`` read on stdin, the wall
and CPU seconds of N passes. Documents asked for but not in the dict are listed as misses.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

_HERE = Path(__file__).resolve().parent
# bench/ itself must not be importable here: bench/openbadges.py would shadow the validator.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent / "tests" / "conformance"))

import badgecheck_runner as runner  # noqa: E402
import requests  # noqa: E402
import urllib3  # noqa: E402

DOCUMENTS: dict[str, tuple[str, bytes]] = {}
MISSES: list[str] = []


class MemoryAdapter(runner.OfflineAdapter):
    """Answers the badge documents from ``DOCUMENTS``; the runner's adapter does the rest."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        url = request.url or ""
        found = DOCUMENTS.get(url)
        if found is None:
            parts = urlsplit(url)
            if parts.path not in runner.CONTEXT_URLS.get((parts.hostname or "").lower(), ()):
                MISSES.append(url)
            return super().send(request, **kwargs)  # the OB v2 context, or a refusal
        content_type, body = found
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(body),
            headers={"Content-Type": content_type, "Content-Length": str(len(body))},
            status=200,
            reason="OK",
            preload_content=False,
            decode_content=False,
        )
        return self.build_response(request, raw)


def _setup() -> Any:
    """The runner's offline setup, with the in-memory adapter; badgecheck's ``verify``."""
    runner.OfflineAdapter = MemoryAdapter  # type: ignore[misc]  # go_offline mounts this one
    runner.go_offline()
    from openbadges.verifier import verify
    from openbadges.verifier.utils import CachableDocumentLoader
    from pyld import jsonld

    jsonld.set_document_loader(CachableDocumentLoader(use_cache=False))
    return verify


def _inputs(request: dict[str, Any]) -> list[tuple[str, Any]]:
    inputs = []
    for item in request["inputs"]:
        if "image" in item:
            inputs.append((item["name"], base64.b64decode(item["image"])))
        else:
            inputs.append((item["name"], item["text"]))
    return inputs


def _verify_once(verify: Any, value: Any) -> dict[str, Any]:
    badge = io.BytesIO(value) if isinstance(value, bytes) else value
    return verify(badge, recipient_profile=None, use_cache=True, cache_backend="memory")


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    for url, document in request["documents"].items():
        DOCUMENTS[url] = (document["content_type"], base64.b64decode(document["body"]))
    verify = _setup()
    inputs = _inputs(request)
    results = []
    for name, value in inputs:
        report = _verify_once(verify, value)["report"]
        errors = [
            {"name": m.get("name"), "result": m.get("result")}
            for m in report["messages"]
            if m["messageLevel"] == "ERROR"
        ]
        results.append({"name": name, "valid": bool(report["valid"]), "errors": errors})
    print(json.dumps({"ready": True, "results": results, "misses": MISSES}), flush=True)
    for line in sys.stdin:
        passes = int(line.split()[1])
        wall, cpu = time.perf_counter(), time.process_time()
        valid = 0
        for _ in range(passes):
            for _name, value in inputs:
                valid += bool(_verify_once(verify, value)["report"]["valid"])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        answer = {"seconds": wall, "cpu": cpu, "verified": passes * len(inputs), "valid": valid}
        print(json.dumps({**answer, "misses": MISSES}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
