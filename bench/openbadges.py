"""Open Badges figures (issue #8): bulk issuance, PNG baking, hosted assertion JSON at scale.

Three ratios, each against a baseline measured in the same run:

- issuance: ``services.badges.issue`` on approved decisions, as ``flask badges issue
  --apply`` runs it (one ``Issuing``, rows + JWS + audit, then a commit), against bare
  RSA-2048 signatures (PKCS#1 v1.5, SHA-256) of the same signing input, in turn;
- baking: what a PNG download does per request to bake (``services.badges.bake_class_png``)
  on a real BadgeClass PNG against the reference ``openbadges-bakery`` and against a Pillow
  re-encode, same image, same payload;
- ``GET /badges/<id>.json`` for random badges with 10 000 then 1 000 000 assertions stored
  (filler rows written by SQL, one pre-signed JWS reused), requests alternating.
"""

from __future__ import annotations

import io
import json
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import openbadges_bakery
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from flask import Flask
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from sqlalchemy import select

from app import openbadges
from app.domain.badges import STAFF_REVOCATION_REASONS
from app.domain.consent import Consent
from app.extensions import db
from app.models import Assertion, BadgeClass, Membership, Observation, Proposal
from app.models.base import utcnow
from app.services import assessments, consent
from app.services import badges as service
from bench.sql import count_statements
from bench.world import World, dispose, make_app

#: Issuance: badges per timed batch (one transaction), batches, and untimed ones first.
ISSUE_BATCH = 40
ISSUE_ROUNDS = 9
ISSUE_WARMUP = 20
#: Bare signatures per timed batch (a few times the badges: each one is much quicker).
SIGN_BATCH = 400
#: Observations cited as evidence by each decision (its narrative is built from them).
EVIDENCE = 4
#: Baking: rounds, and the least time a round of one method lasts (its count is fixed first).
BAKE_ROUNDS = 7
BAKE_SECONDS = 0.2
#: Hosted JSON: requests per database (after a warm-up), each for a random badge.
JSON_ROUNDS = 300
JSON_WARMUP = 20


# -- Issuance ---------------------------------------------------------------------------------


def _give_identities(world: World) -> dict[str, int]:
    """A third of the team by email, a third by telephone, the rest by identity URL."""
    kinds = {"email": 0, "telephone": 0, "url": 0}
    for n, pk in enumerate(world.team_worker_pks):
        user = db.session.get(Membership, pk).user
        if n % 3 == 0:
            user.email = f"Banc.Salarie{n:02}@Exemple.fr"
            kinds["email"] += 1
        elif n % 3 == 1:
            user.phone = f"06 12 34 56 {n:02}"
            kinds["telephone"] += 1
        else:
            kinds["url"] += 1
    return kinds


def _approved_decisions(world: World, count: int) -> list[int]:
    """``count`` approved decisions (Proposal rows written directly), cycling through the
    team × current templates × tiers; each cites ``EVIDENCE`` of the worker's observations."""
    session = db.session
    templates = assessments.current_templates(session)
    combos = [
        (w, t, tier["level"]) for t in templates for tier in t.tiers for w in world.team_worker_pks
    ]
    evidence = {
        pk: list(
            session.scalars(
                select(Observation.public_id)
                .where(Observation.worker_id == pk, Observation.level >= 3)
                .order_by(Observation.id)
                .limit(EVIDENCE)
            )
        )
        for pk in world.team_worker_pks
    }
    structure_pk = world.places[0].structure_pk
    now = utcnow()
    proposals = []
    for n in range(count):
        worker_pk, template, level = combos[n % len(combos)]
        proposals.append(
            Proposal(
                structure_id=structure_pk,
                worker_id=worker_pk,
                template_id=template.id,
                level=level,
                origin="criteria",
                status="approved",
                created_at=now - timedelta(days=1),
                decided_at=now - timedelta(hours=1),
                decided_by_id=world.encadrant_user_pk,
                criteria=[],
                evidence=evidence[worker_pk],
            )
        )
    session.add_all(proposals)
    session.flush()
    return [p.id for p in proposals]


def _badge_classes(ids: list[int], issuing: service.Issuing) -> list[float]:
    """Make every BadgeClass the decisions need (artwork rendered once each); their times."""
    session = db.session
    seen: set[tuple[int, int]] = set()
    times = []
    for proposal in session.scalars(select(Proposal).where(Proposal.id.in_(ids))):
        if (proposal.template_id, proposal.level) in seen:
            continue
        seen.add((proposal.template_id, proposal.level))
        started = time.perf_counter()
        service.badge_class_for(
            session,
            structure=proposal.worker.structure,
            template=proposal.template,
            level=proposal.level,
            urls=issuing.urls,
            now=utcnow(),
        )
        times.append(time.perf_counter() - started)
    return times


def _issue_batch(ids: list[int], issuing: service.Issuing) -> None:
    """What ``flask badges issue --apply`` does with these decisions: issue them
    (``services.badges.issue_all``), commit."""
    session = db.session
    proposals = session.scalars(select(Proposal).where(Proposal.id.in_(ids)).order_by(Proposal.id))
    list(service.issue_all(session, proposals, issuing=issuing, now=utcnow()))
    session.commit()


def _sign_batch(key: Any, data: bytes, count: int) -> None:
    for _ in range(count):
        key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def _timed(work: Callable[[], Any]) -> tuple[float, float]:
    """Wall and CPU seconds of ``work()``."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def issuance(world: World, url: str) -> dict[str, Any]:
    """Badges issued per second (bulk, committed) ÷ bare RSA-2048 signatures per second."""
    app = make_app(url, world.keys_dir)
    total = ISSUE_WARMUP + ISSUE_ROUNDS * ISSUE_BATCH + 1
    try:
        with app.app_context():
            session = db.session
            kinds = _give_identities(world)
            ids = _approved_decisions(world, total)
            issuing = service.Issuing.from_config(app.config)
            structure = session.get(Membership, world.team_worker_pks[0]).structure
            signing_key = service.signing_key_for(session, structure, issuing, utcnow())
            artwork = _badge_classes(ids, issuing)
            session.commit()
            private_key = issuing.private_key(signing_key)
            warm, ids = ids[:ISSUE_WARMUP], ids[ISSUE_WARMUP:]
            _issue_batch(warm, issuing)
            sample = session.scalars(select(Assertion).order_by(Assertion.id).limit(1)).one()
            signing_input = sample.jws.rsplit(".", 1)[0].encode("ascii")
            _sign_batch(private_key, signing_input, ISSUE_WARMUP)
            rates: dict[str, list[float]] = {"issue": [], "sign": []}
            cpu: dict[str, list[float]] = {"issue": [], "sign": []}
            for n in range(ISSUE_ROUNDS):
                batch = ids[n * ISSUE_BATCH : (n + 1) * ISSUE_BATCH]
                sides = [
                    ("sign", lambda: _sign_batch(private_key, signing_input, SIGN_BATCH)),
                    ("issue", lambda b=batch: _issue_batch(b, issuing)),
                ]
                for name, work in sides if n % 2 == 0 else sides[::-1]:
                    count = SIGN_BATCH if name == "sign" else ISSUE_BATCH
                    wall, used = _timed(work)
                    rates[name].append(count / wall)
                    cpu[name].append(used / count)
            last = ids[-1:]
        statements = count_statements(
            app, lambda: _run_in(app, lambda: _issue_batch(last, issuing))
        )
        with app.app_context():
            issued = session.scalar(select(db.func.count()).select_from(Assertion))
            classes = session.scalar(select(db.func.count()).select_from(BadgeClass))
            sample = session.scalars(select(Assertion).order_by(Assertion.id.desc()).limit(1)).one()
            jws_bytes = len(sample.jws)
    finally:
        dispose(app)
    paired = [i / s for i, s in zip(rates["issue"], rates["sign"], strict=True)]
    return {
        "ratio": statistics.median(paired),
        "issued_per_s": round(statistics.median(rates["issue"]), 1),
        "signatures_per_s": round(statistics.median(rates["sign"]), 1),
        "cpu_ms_issue": round(statistics.median(cpu["issue"]) * 1000, 2),
        "cpu_ms_sign": round(statistics.median(cpu["sign"]) * 1000, 2),
        "rounds_ratio": [round(p, 3) for p in paired],
        "rounds": ISSUE_ROUNDS,
        "batch": ISSUE_BATCH,
        "signatures_per_round": SIGN_BATCH,
        "statements_per_badge": statements,
        "signing_input_bytes": len(signing_input),
        "jws_bytes": jws_bytes,
        "recipients": kinds,
        "evidence_per_decision": EVIDENCE,
        "issued": issued,
        "badge_classes": classes,
        "artwork_ms_median": round(statistics.median(artwork) * 1000, 1),
    }


def accept_issued(world: World, url: str) -> int:
    """Every badge still pending accepted by its earner (``services.consent.accept``, not
    shown on the profile): since issue #10 a badge's hosted address, its baked downloads and
    its verification answer only once accepted. Returns how many."""
    app = make_app(url, world.keys_dir)
    try:
        with app.app_context():
            session, now = db.session, utcnow()
            pending = session.scalars(
                select(Assertion)
                .where(Assertion.consent == Consent.PENDING.value)
                .order_by(Assertion.id)
            ).all()
            for assertion in pending:
                consent.accept(session, assertion, actor=assertion.user, show=False, now=now)
            session.commit()
    finally:
        dispose(app)
    return len(pending)


def _run_in(app: Flask, work: Callable[[], Any]) -> Any:
    with app.app_context():
        return work()


# -- Baking -----------------------------------------------------------------------------------


Baker = Callable[[bytes, str], "bytes | list[bytes]"]


def _bake_bakery(png: bytes, payload: str) -> bytes:
    out = openbadges_bakery.bake(io.BytesIO(png), payload, io.BytesIO())
    return out.getvalue()


def _bake_pillow(png: bytes, payload: str) -> bytes:
    info = PngInfo()
    info.add_itxt("openbadges", payload)
    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as image:
        image.save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def _bakers(session: Any, class_id: str, image: Callable[[], bytes]) -> dict[str, Baker]:
    """Jalon's side is what the download route does per request to bake the class image:
    ``services.badges.bake_class_png`` on the request's session (the layouts of its database
    found, the class's layout found by class id, the iTXt chunk made, the ETag digest), parts
    sent as they are. The route never reads the image again once its layout is cut: ``image``
    (the deferred column read from the database) is called on the first bake only, so the
    bytes handed to each bake are for the other two methods."""
    return {
        "jalon": lambda _png, payload: (
            service.bake_class_png(session, class_id, image, payload).parts
        ),
        "bakery": _bake_bakery,
        "pillow": _bake_pillow,
    }


def _joined(baked: bytes | list[bytes]) -> bytes:
    return baked if isinstance(baked, bytes) else b"".join(baked)


def _check_bakes(bakers: dict[str, Baker], png: bytes, payload: str) -> None:
    """Each method's output must carry the payload (read back by us and by the bakery), and
    ours must be the bytes of ``bake_png`` (CRCs checked) for the same image and payload."""
    for name, bake in bakers.items():
        baked = _joined(bake(png, payload))
        ours = openbadges.unbake_png(baked)
        theirs = openbadges_bakery.unbake(io.BytesIO(baked))
        if ours != payload or theirs != payload:
            raise RuntimeError(f"baking with {name} did not carry the payload")
    if _joined(bakers["jalon"](png, payload)) != openbadges.bake_png(png, payload):
        raise RuntimeError("the download's baked PNG differs from bake_png's")


def _bake_rounds(bake: Baker, png: bytes, payload: str, count: int) -> float:
    """Seconds for ``count`` bakes of ``payload`` into ``png``."""
    started = time.perf_counter()
    for _ in range(count):
        bake(png, payload)
    return time.perf_counter() - started


def _calibrated(bake: Baker, png: bytes, payload: str) -> int:
    """How many bakes last about ``BAKE_SECONDS`` (at least 3), measured once untimed."""
    count, elapsed = 1, 0.0
    while elapsed < BAKE_SECONDS / 4:
        count *= 2
        elapsed = _bake_rounds(bake, png, payload, count)
    return max(3, round(count * BAKE_SECONDS / elapsed))


def _class_image(class_id: str) -> bytes:
    """The class image as a download's first bake reads it: the deferred column, by SQL."""
    return db.session.scalars(
        select(BadgeClass.image_png).where(BadgeClass.public_id == class_id)
    ).one()


def baking(world: World, url: str) -> dict[str, Any]:
    """Bakes per second of the download's bake ÷ the bakery's and ÷ a Pillow re-encode's."""
    app = make_app(url, world.keys_dir)
    try:
        with app.app_context():
            assertion = db.session.scalars(select(Assertion).order_by(Assertion.id).limit(1)).one()
            class_id = assertion.badge_class.public_id
            png = _class_image(class_id)
            urls = service.Issuing.from_config(app.config).urls
            payload = json.dumps(service.assertion_document(assertion, urls), ensure_ascii=False)
            with Image.open(io.BytesIO(png)) as image:
                width, height = image.size
            bakers = _bakers(db.session(), class_id, lambda: _class_image(class_id))
            _check_bakes(bakers, png, payload)
            counts = {name: _calibrated(bake, png, payload) for name, bake in bakers.items()}
            rates: dict[str, list[float]] = {name: [] for name in bakers}
            names = list(bakers)
            for n in range(BAKE_ROUNDS):
                for name in names[n % 3 :] + names[: n % 3]:
                    count = counts[name]
                    rates[name].append(count / _bake_rounds(bakers[name], png, payload, count))
    finally:
        dispose(app)
    vs_bakery = [a / b for a, b in zip(rates["jalon"], rates["bakery"], strict=True)]
    vs_pillow = [a / b for a, b in zip(rates["jalon"], rates["pillow"], strict=True)]
    return {
        "ratio_bakery": statistics.median(vs_bakery),
        "ratio_pillow": statistics.median(vs_pillow),
        **{f"{name}_per_s": round(statistics.median(r), 1) for name, r in rates.items()},
        "png_bytes": len(png),
        "png_size": f"{width}×{height}",
        "payload_bytes": len(payload.encode("utf-8")),
        "rounds": BAKE_ROUNDS,
        "bakes_per_round": counts,
    }


# -- Hosted assertion JSON at 10 k and 1 M assertions ----------------------------------------

_FILL = """
WITH RECURSIVE seq(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM seq WHERE n < :count - 1)
INSERT INTO assertions (
    public_id, structure_id, badge_class_id, proposal_id, worker_id, user_id, signing_key_id,
    recipient_type, recipient_hash, salt, issued_on, expires_at, evidence, jws, created_at,
    revoked_at, revocation_reason, consent, on_profile, earner_name, consent_changed_at
)
SELECT
    lower(hex(randomblob(16))), s.structure_id, s.badge_class_id, s.proposal_id, s.worker_id,
    s.user_id, s.signing_key_id, s.recipient_type, s.recipient_hash, s.salt,
    strftime('%Y-%m-%d %H:%M:%S', :now, printf('-%d minutes', (seq.n * 37) % 1051200))
        || '.000000',
    NULL, s.evidence, :jws, :now_full,
    CASE WHEN :revoked THEN :now_full END,
    CASE WHEN :revoked THEN {reasons} END,
    s.consent, s.on_profile, s.earner_name, s.consent_changed_at
FROM seq JOIN bench_assertions AS s ON s.k = seq.n % :samples
""".format(
    reasons="CASE seq.n % {} {} END".format(
        len(STAFF_REVOCATION_REASONS),
        " ".join(f"WHEN {n} THEN '{r.value}'" for n, r in enumerate(STAFF_REVOCATION_REASONS)),
    )
)


def _fill_assertions(path: str, total: int, *, revoked: bool = False) -> int:
    """Add filler assertions (copies of the issued ones, new ids, one JWS) up to ``total``;
    with ``revoked``, each withdrawn (now, for one of the staff's reasons)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("PRAGMA cache_size=-262144")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(
            "CREATE TEMP TABLE bench_assertions AS SELECT row_number() OVER (ORDER BY id) - 1 "
            "AS k, * FROM assertions"
        )
        samples, jws = conn.execute(
            "SELECT count(*), (SELECT jws FROM assertions ORDER BY id LIMIT 1) FROM assertions"
        ).fetchone()
        current = samples
        now = utcnow().strftime("%Y-%m-%d %H:%M:%S")
        if total > current:
            conn.execute("BEGIN")
            conn.execute(
                _FILL,
                {
                    "count": total - current,
                    "now": now,
                    "now_full": now + ".000000",
                    "jws": jws,
                    "samples": samples,
                    "revoked": revoked,
                },
            )
            conn.execute("COMMIT")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return int(conn.execute("SELECT count(*) FROM assertions").fetchone()[0])
    finally:
        conn.close()


def assertion_count(url: str) -> int:
    """How many assertions the SQLite file at ``url`` holds."""
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return int(conn.execute("SELECT count(*) FROM assertions").fetchone()[0])
    finally:
        conn.close()


def _random_ids(path: str, count: int, seed: int) -> list[str]:
    """``count`` public ids of assertions drawn at random (by row id) from the file."""
    conn = sqlite3.connect(path)
    try:
        high = conn.execute("SELECT max(id) FROM assertions").fetchone()[0]
        pks = random.Random(seed).sample(range(1, high + 1), count)
        ids = []
        for start in range(0, count, 500):
            chunk = pks[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            ids += [
                r[0]
                for r in conn.execute(
                    f"SELECT public_id FROM assertions WHERE id IN ({marks})", chunk
                )
            ]
        random.Random(seed).shuffle(ids)
        return ids
    finally:
        conn.close()


def badges_database(workdir: Path, source_url: str) -> str:
    """A copy of the small database for issuance (the other figures' files stay as they are)."""
    path = workdir / "badges.sqlite3"
    shutil.copyfile(source_url.removeprefix("sqlite:///"), path)
    return f"sqlite:///{path}"


def build_assertion_databases(
    workdir: Path, source_url: str, small: int, large: int, *, revoked: bool = False
) -> tuple[str, int, str, int]:
    """Copies of ``source_url`` (which holds the issued badges) filled to ``small``, ``large``
    assertions; with ``revoked``, the filler badges are all withdrawn."""
    source = source_url.removeprefix("sqlite:///")
    stem = "badges-revoked" if revoked else "badges"
    small_path, large_path = workdir / f"{stem}-small.sqlite3", workdir / f"{stem}-large.sqlite3"
    shutil.copyfile(source, small_path)
    small_count = _fill_assertions(str(small_path), small, revoked=revoked)
    shutil.copyfile(small_path, large_path)
    large_count = _fill_assertions(str(large_path), large, revoked=revoked)
    return f"sqlite:///{small_path}", small_count, f"sqlite:///{large_path}", large_count


def _get_json(client: Any, assertion_id: str) -> None:
    response = client.get(f"/badges/{assertion_id}.json")
    if response.status_code != 200 or response.json.get("type") != "Assertion":
        raise RuntimeError(f"/badges/{assertion_id}.json failed ({response.status_code})")


def assertion_json(world: World, small_url: str, large_url: str) -> dict[str, Any]:
    """Median ``GET /badges/<id>.json`` time for random badges on each database, ratio."""
    urls = (small_url, large_url)
    paths = [u.removeprefix("sqlite:///") for u in urls]
    ids = [_random_ids(p, JSON_ROUNDS + JSON_WARMUP, seed=n) for n, p in enumerate(paths)]
    apps = [make_app(u, world.keys_dir) for u in urls]
    try:
        clients = [app.test_client() for app in apps]
        for side in (0, 1):
            for assertion_id in ids[side][:JSON_WARMUP]:
                _get_json(clients[side], assertion_id)
        times: list[list[float]] = [[], []]
        for n in range(JSON_ROUNDS):
            for side in (0, 1) if n % 2 == 0 else (1, 0):
                assertion_id = ids[side][JSON_WARMUP + n]
                started = time.perf_counter()
                _get_json(clients[side], assertion_id)
                times[side].append(time.perf_counter() - started)
        statements = [
            count_statements(app, lambda c=c, i=i[0]: _get_json(c, i))
            for app, c, i in zip(apps, clients, ids, strict=True)
        ]
    finally:
        for app in apps:
            dispose(app)
    small, large = (statistics.median(t) for t in times)
    return {
        "ratio": large / small,
        "small_ms": round(small * 1000, 2),
        "large_ms": round(large * 1000, 2),
        "rounds": JSON_ROUNDS,
        "statements_small": statements[0],
        "statements_large": statements[1],
        "small_db_mb": round(Path(paths[0]).stat().st_size / 2**20),
        "large_db_mb": round(Path(paths[1]).stat().st_size / 2**20),
    }
