"""Open Badges verification figures (issue #9): our verifier against RSA, against the official
validator, and with 10 000 then 1 000 000 withdrawn badges listed.

Three ratios, each against a baseline measured in the same run:

- library: ``app.openbadges.verify`` of a signed badge whose documents (class, issuer, key,
  revocation list) are already built, served by a fetch reading an in-memory dict, against
  bare RSA-2048 PKCS#1 v1.5 SHA-256 verifications of the same JWS with the same key;
- validator: ``services.verification.verify_badge`` (this instance's badges resolved from the
  database, as ``flask badges verify`` does) on JWSs and baked PNGs and SVGs, against the
  official validator's ``verify()`` on the same inputs, timed in its own interpreter
  (``bench/validator_rounds.py``) with the same documents served from memory;
- revocation list: ``verify_badge`` on live signed badges with 10 000 then 1 000 000 revoked
  assertions stored (filler rows written by SQL), calls alternating;
- employer's page (issue #11): ``POST /verifier`` with a baked PNG uploaded, whole request
  (form, unbaking, verification, counting row committed, HTML page), against
  ``verify_badge`` on the same PNG bytes, in turn.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from sqlalchemy import select

from app import openbadges
from app.domain.badges import STAFF_REVOCATION_REASONS
from app.extensions import db
from app.models import Assertion, BadgeVerification
from app.models.base import utcnow
from app.services import revocations
from app.services.badges import Issuing
from app.services.verification import LocalResolver, verify_badge
from bench.sql import count_statements
from bench.world import World, dispose, make_app

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR_PYTHON = ROOT / ".venv-badgecheck" / "bin" / "python"
VALIDATOR_SCRIPT = Path(__file__).with_name("validator_rounds.py")
#: What badgecheck sends when it fetches a badge object or an image.
VALIDATOR_ACCEPT = "application/ld+json, application/json, image/png, image/svg+xml"

#: Badges withdrawn in the verification database, so that its revocation list is not empty.
REVOKED_SAMPLE = 20
#: Library ÷ RSA: rounds, and about how long each side of a round lasts (counts fixed first).
LIBRARY_ROUNDS = 9
LIBRARY_SECONDS = 0.2
#: Against the validator: rounds, and the least time our side of a round lasts.
VALIDATOR_ROUNDS = 5
OURS_SECONDS = 0.5
#: The forms verified for each sampled badge (one badge per recipient type).
FORMS = ("jws", "png", "png-signed", "svg", "svg-signed")
#: Employer's page ÷ library: rounds, and about how long each side of a round lasts.
PAGE_ROUNDS = 15
PAGE_SECONDS = 0.5
#: Revocation list figure: verifications per database (after a warm-up), each of a random badge.
REVOKED_ROUNDS = 300
REVOKED_WARMUP = 20


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _calibrated(work: Callable[[], Any], seconds: float) -> int:
    """How many calls of ``work`` last about ``seconds`` (at least 3), measured untimed."""
    count, elapsed = 1, 0.0
    while elapsed < seconds / 4:
        count *= 2
        started = time.perf_counter()
        for _ in range(count):
            work()
        elapsed = time.perf_counter() - started
    return max(3, round(count * seconds / elapsed))


def _repeat(work: Callable[[], Any], count: int) -> tuple[float, float]:
    """Wall and CPU seconds of ``count`` calls of ``work``."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        work()
    return time.perf_counter() - wall, time.process_time() - cpu


def _live(session: Any) -> list[Assertion]:
    return list(
        session.scalars(
            select(Assertion).where(Assertion.revoked_at.is_(None)).order_by(Assertion.id)
        )
    )


def verification_database(world: World, workdir: Path, source_url: str) -> str:
    """A copy of the issuance database where ``REVOKED_SAMPLE`` badges are withdrawn."""
    path = workdir / "badges-verify.sqlite3"
    shutil.copyfile(source_url.removeprefix("sqlite:///"), path)
    url = f"sqlite:///{path}"
    app = make_app(url, world.keys_dir)
    try:
        with app.app_context():
            session, now = db.session, utcnow()
            for n, assertion in enumerate(_live(session)[-REVOKED_SAMPLE:]):
                reason = STAFF_REVOCATION_REASONS[n % len(STAFF_REVOCATION_REASONS)]
                revocations.revoke(session, assertion, reason=reason, now=now)
            session.commit()
    finally:
        dispose(app)
    return url


# -- Library verification ÷ bare RSA verifications -------------------------------------------


def library(world: World, url: str) -> dict[str, Any]:
    """Signed badges verified per second from in-memory documents ÷ RSA verifications/s."""
    app = make_app(url, world.keys_dir)
    try:
        with app.app_context():
            issuing = Issuing.from_config(app.config)
            resolver = LocalResolver(db.session, issuing.urls, issuing.contact_email)
            jws = _live(db.session)[0].jws
            documents: dict[str, dict[str, Any]] = {}

            def recording(address: str) -> dict[str, Any]:
                documents[address] = resolver.fetch(address)
                return documents[address]

            now = utcnow()
            first = openbadges.verify(jws, fetch=recording, now=now)
    finally:
        dispose(app)
    if not first.valid:
        raise RuntimeError(f"the sample badge does not verify: {first.failed()}")
    assert first.key is not None and first.issuer is not None
    listed = len(documents[first.issuer["revocationList"]]["revokedAssertions"])
    kept = copy.deepcopy(documents)
    fetch = documents.__getitem__
    public_key = load_pem_public_key(first.key["publicKeyPem"].encode("ascii"))
    signing_input, _, signature = jws.rpartition(".")
    data, raw_signature = signing_input.encode("ascii"), _b64url(signature)

    def ours() -> None:
        if not openbadges.verify(jws, fetch=fetch, now=now).valid:
            raise RuntimeError("the sample badge stopped verifying")

    def rsa() -> None:
        public_key.verify(raw_signature, data, padding.PKCS1v15(), hashes.SHA256())

    sides = {"library": ours, "rsa": rsa}
    counts = {name: _calibrated(work, LIBRARY_SECONDS) for name, work in sides.items()}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for n in range(LIBRARY_ROUNDS):
        for name in names if n % 2 == 0 else names[::-1]:
            wall, used = _repeat(sides[name], counts[name])
            rates[name].append(counts[name] / wall)
            cpu[name].append(used / counts[name])
    if documents != kept:
        raise RuntimeError("verify changed the documents it was given")
    # Throughput by CPU time: rsa ÷ library CPU time per call, round by round.
    paired = [r / v for v, r in zip(cpu["library"], cpu["rsa"], strict=True)]
    wall_paired = [a / b for a, b in zip(rates["library"], rates["rsa"], strict=True)]
    return {
        "ratio": statistics.median(paired),
        "wall_ratio": round(statistics.median(wall_paired), 3),
        "library_per_s": round(statistics.median(rates["library"]), 1),
        "rsa_per_s": round(statistics.median(rates["rsa"]), 1),
        "cpu_us_library": round(statistics.median(cpu["library"]) * 1e6, 1),
        "cpu_us_rsa": round(statistics.median(cpu["rsa"]) * 1e6, 1),
        "rounds_ratio": [round(p, 3) for p in paired],
        "rounds": LIBRARY_ROUNDS,
        "calls_per_round": counts,
        "documents": len(documents),
        "revocation_list_entries": listed,
        "jws_bytes": len(jws),
    }


# -- verify_badge ÷ the official validator ----------------------------------------------------


def _sample_inputs(client: Any, issuing: Issuing, live: list[Assertion]) -> list[tuple[str, Any]]:
    """Each form of one live badge per recipient type: JWS text, baked image bytes."""
    inputs: list[tuple[str, Any]] = []
    for kind in ("email", "telephone", "url"):
        badge = next(a for a in live if a.recipient_type == kind)
        for form in FORMS:
            name = f"{kind}:{form}"
            if form == "jws":
                inputs.append((name, badge.jws))
                continue
            fmt, _, signed = form.partition("-")
            response = client.get(issuing.urls.baked(badge.public_id, fmt, signed=bool(signed)))
            if response.status_code != 200:
                raise RuntimeError(f"{name}: download failed ({response.status_code})")
            inputs.append((name, response.get_data()))
    return inputs


def _validator_documents(
    client: Any, resolver: LocalResolver, inputs: list[tuple[str, Any]]
) -> dict[str, dict[str, str]]:
    """Every public document verifying ``inputs`` reads (and the class images), as served."""
    urls: set[str] = set()

    def recording(address: str) -> dict[str, Any]:
        urls.add(address)
        document = resolver.fetch(address)
        if document.get("type") == "BadgeClass":
            image = document["image"]
            urls.add(image["id"] if isinstance(image, dict) else image)
        return document

    for name, value in inputs:
        if not openbadges.verify(value, fetch=recording, now=utcnow()).valid:
            raise RuntimeError(f"{name}: our verifier finds the bench badge invalid")
    documents = {}
    for address in sorted(urls):
        response = client.get(address, headers={"Accept": VALIDATOR_ACCEPT})
        if response.status_code != 200:
            raise RuntimeError(f"{address}: {response.status_code}")
        documents[address] = {
            "content_type": response.headers["Content-Type"],
            "body": base64.b64encode(response.get_data()).decode("ascii"),
        }
    return documents


class _Validator:
    """The validator's interpreter, started once; ``round(n)`` times n passes inside it."""

    def __init__(self, request_file: Path) -> None:
        if not VALIDATOR_PYTHON.is_file():
            raise RuntimeError(f"{VALIDATOR_PYTHON} is missing: run `make validator`")
        self.process = subprocess.Popen(
            [str(VALIDATOR_PYTHON), str(VALIDATOR_SCRIPT), str(request_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        )
        self.ready = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the validator process ended ({self.process.wait()})")
        answer = json.loads(line)
        if answer["misses"]:
            raise RuntimeError(f"the validator asked for documents not served: {answer['misses']}")
        return answer

    def round(self, passes: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"round {passes}\n")
        self.process.stdin.flush()
        return self._answer()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def against_validator(world: World, url: str, workdir: Path) -> dict[str, Any]:
    """``verify_badge`` per second ÷ the official validator's ``verify()`` per second."""
    app = make_app(url, world.keys_dir)
    validator: _Validator | None = None
    try:
        client = app.test_client()
        with app.app_context():
            issuing = Issuing.from_config(app.config)
            resolver = LocalResolver(db.session, issuing.urls, issuing.contact_email)
            inputs = _sample_inputs(client, issuing, _live(db.session))
            documents = _validator_documents(client, resolver, inputs)
            db.session.remove()
            request = {
                "documents": documents,
                "inputs": [
                    {"name": name, "image": base64.b64encode(value).decode("ascii")}
                    if isinstance(value, bytes)
                    else {"name": name, "text": value}
                    for name, value in inputs
                ],
            }
            request_file = workdir / "validator-request.json"
            request_file.write_text(json.dumps(request), encoding="utf-8")
            validator = _Validator(request_file)
            refused = [r for r in validator.ready["results"] if not r["valid"]]
            if refused:
                raise RuntimeError(f"the validator refuses bench badges: {refused}")

            def ours() -> None:
                for name, value in inputs:
                    result = verify_badge(db.session, value, issuing=issuing, now=utcnow())
                    db.session.remove()  # one verification, one session, as in a request
                    if not result.valid:
                        raise RuntimeError(f"{name}: {result.failed()}")

            passes = _calibrated(ours, OURS_SECONDS)
            statements = count_statements(app, lambda: _first(inputs, issuing))
            rates: dict[str, list[float]] = {"ours": [], "validator": []}
            cpu: dict[str, list[float]] = {"ours": [], "validator": []}
            for n in range(VALIDATOR_ROUNDS):
                for side in ("ours", "validator") if n % 2 == 0 else ("validator", "ours"):
                    if side == "ours":
                        wall, used = _repeat(ours, passes)
                        count = passes * len(inputs)
                    else:
                        answer = validator.round(1)
                        wall, used, count = answer["seconds"], answer["cpu"], answer["verified"]
                        if answer["valid"] != count:
                            raise RuntimeError("the validator stopped finding bench badges valid")
                    rates[side].append(count / wall)
                    cpu[side].append(used / count)
    finally:
        if validator is not None:
            validator.close()
        dispose(app)
    # Throughput by CPU time: validator ÷ our CPU time per verification, round by round.
    paired = [v / o for o, v in zip(cpu["ours"], cpu["validator"], strict=True)]
    wall_paired = [a / b for a, b in zip(rates["ours"], rates["validator"], strict=True)]
    return {
        "ratio": statistics.median(paired),
        "wall_ratio": round(statistics.median(wall_paired), 1),
        "ours_per_s": round(statistics.median(rates["ours"]), 1),
        "validator_per_s": round(statistics.median(rates["validator"]), 2),
        "cpu_ms_ours": round(statistics.median(cpu["ours"]) * 1000, 2),
        "cpu_ms_validator": round(statistics.median(cpu["validator"]) * 1000, 1),
        "rounds_ratio": [round(p, 1) for p in paired],
        "rounds": VALIDATOR_ROUNDS,
        "inputs": [name for name, _ in inputs],
        "our_passes_per_round": passes,
        "documents_served": len(documents),
        "statements_jws": statements,
    }


def _first(inputs: list[tuple[str, Any]], issuing: Issuing) -> None:
    """Verify the first input (a JWS) once, in its own session."""
    verify_badge(db.session, inputs[0][1], issuing=issuing, now=utcnow())
    db.session.remove()


# -- POST /verifier with a baked PNG ÷ verify_badge of the same PNG -------------------------


def _verification_count(session: Any) -> int:
    return session.scalar(select(db.func.count()).select_from(BadgeVerification))


def page(world: World, url: str) -> dict[str, Any]:
    """``/verifier`` answers per second for an uploaded baked PNG ÷ ``verify_badge`` of the
    same bytes per second, same app, same database, in turn."""
    # The form's CSRF token and the per-client rate limit are off in this app only.
    app = make_app(url, world.keys_dir, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    try:
        client = app.test_client()
        with app.app_context():
            issuing = Issuing.from_config(app.config)
            badge = next(a for a in _live(db.session) if a.recipient_type == "email")
            address = issuing.urls.baked(badge.public_id, "png", signed=False)
            db.session.remove()
        response = client.get(address)
        if response.status_code != 200:
            raise RuntimeError(f"{address}: download failed ({response.status_code})")
        png = response.get_data()

        def post() -> None:
            answer = client.post(
                "/verifier",
                data={"fichier": (io.BytesIO(png), "badge.png")},
                content_type="multipart/form-data",
            )
            if answer.status_code != 200 or b"status-valid" not in answer.data:
                raise RuntimeError(f"/verifier did not find the badge valid ({answer.status})")

        def library() -> None:
            with app.app_context():
                result = verify_badge(db.session, png, issuing=issuing, now=utcnow())
                db.session.remove()
            if not result.valid:
                raise RuntimeError(f"the bench badge does not verify: {result.failed()}")

        with app.app_context():
            before = _verification_count(db.session)
            db.session.remove()
        post()
        with app.app_context():
            counted = _verification_count(db.session) - before
            db.session.remove()
        if counted != 1:
            raise RuntimeError(f"one POST /verifier counted {counted} verifications, not 1")
        statements = {
            "page": count_statements(app, post),
            "library": count_statements(app, library),
        }
        sides = {"page": post, "library": library}
        counts = {name: _calibrated(work, PAGE_SECONDS) for name, work in sides.items()}
        rates: dict[str, list[float]] = {name: [] for name in sides}
        cpu: dict[str, list[float]] = {name: [] for name in sides}
        names = list(sides)
        for n in range(PAGE_ROUNDS):
            for name in names if n % 2 == 0 else names[::-1]:
                wall, used = _repeat(sides[name], counts[name])
                rates[name].append(counts[name] / wall)
                cpu[name].append(used / counts[name])
        with app.app_context():
            counted = _verification_count(db.session) - before
            db.session.remove()
    finally:
        dispose(app)
    # Answers per second (wall time: the page's commit waits on the disk), round by round.
    paired = [p / v for p, v in zip(rates["page"], rates["library"], strict=True)]
    cpu_paired = [v / p for p, v in zip(cpu["page"], cpu["library"], strict=True)]
    return {
        "ratio": statistics.median(paired),
        "cpu_ratio": round(statistics.median(cpu_paired), 3),
        "page_per_s": round(statistics.median(rates["page"]), 1),
        "verify_badge_per_s": round(statistics.median(rates["library"]), 1),
        "cpu_ms_page": round(statistics.median(cpu["page"]) * 1000, 2),
        "cpu_ms_verify_badge": round(statistics.median(cpu["library"]) * 1000, 2),
        "rounds_ratio": [round(p, 3) for p in paired],
        "rounds": PAGE_ROUNDS,
        "calls_per_round": counts,
        "statements_page": statements["page"],
        "statements_verify_badge": statements["library"],
        "png_bytes": len(png),
        "variant": "hosted",
        "verifications_counted": counted,
    }


# -- verify_badge with 10 000 vs 1 000 000 revoked assertions --------------------------------


def _live_jws(url: str, world: World, count: int, seed: int) -> list[str]:
    """``count`` JWSs of live badges drawn at random (with repeats when there are fewer)."""
    app = make_app(url, world.keys_dir)
    try:
        with app.app_context():
            pool = [a.jws for a in _live(db.session)]
    finally:
        dispose(app)
    return random.Random(seed).choices(pool, k=count)


def with_revoked(world: World, small_url: str, large_url: str) -> dict[str, Any]:
    """Median ``verify_badge`` time of random live signed badges on each database, ratio."""
    urls = (small_url, large_url)
    samples = [
        _live_jws(u, world, REVOKED_ROUNDS + REVOKED_WARMUP, seed=n) for n, u in enumerate(urls)
    ]
    apps = [make_app(u, world.keys_dir) for u in urls]
    issuing = [Issuing.from_config(app.config) for app in apps]

    def check(side: int, jws: str) -> None:
        with apps[side].app_context():
            result = verify_badge(db.session, jws, issuing=issuing[side], now=utcnow())
            db.session.remove()
        if not result.valid:
            raise RuntimeError(f"a live badge does not verify: {result.failed()}")

    try:
        for side in (0, 1):
            for jws in samples[side][:REVOKED_WARMUP]:
                check(side, jws)
        times: list[list[float]] = [[], []]
        for n in range(REVOKED_ROUNDS):
            for side in (0, 1) if n % 2 == 0 else (1, 0):
                jws = samples[side][REVOKED_WARMUP + n]
                started = time.perf_counter()
                check(side, jws)
                times[side].append(time.perf_counter() - started)
        statements = [
            count_statements(app, lambda s=side: check(s, samples[s][0]))
            for side, app in enumerate(apps)
        ]
        revoked = []
        for app in apps:
            with app.app_context():
                revoked.append(
                    db.session.scalar(
                        select(db.func.count())
                        .select_from(Assertion)
                        .where(Assertion.revoked_at.is_not(None))
                    )
                )
                db.session.remove()
    finally:
        for app in apps:
            dispose(app)
    small, large = (statistics.median(t) for t in times)
    return {
        "ratio": large / small,
        "small_ms": round(small * 1000, 2),
        "large_ms": round(large * 1000, 2),
        "rounds": REVOKED_ROUNDS,
        "revoked_small": revoked[0],
        "revoked_large": revoked[1],
        "statements_small": statements[0],
        "statements_large": statements[1],
        "small_db_mb": round(Path(urls[0].removeprefix("sqlite:///")).stat().st_size / 2**20),
        "large_db_mb": round(Path(urls[1].removeprefix("sqlite:///")).stat().st_size / 2**20),
    }
