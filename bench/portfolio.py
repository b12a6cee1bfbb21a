"""The worker's badge space (issue #10): the list, the printable passport, the ZIP export.

Three ratios, each between two measurements taken in the same run:

- list: ``GET /moi/badges`` for a worker holding ``MANY`` accepted badges against the same
  page for a worker holding ``FEW``, same app, same database, requests alternating; the SQL
  statements of one request are counted for both (a count that grows with the badges would
  be an N+1);
- passport: ``badge_pdf.passport_pdf`` of ``PASSPORT_BADGES`` badges against
  ``badge_pdf.badge_pdf`` of each of the same badges, in turn;
- export: ``badge_export.export_archive`` of ``EXPORT_BADGES`` badges against one export
  of each of the same badges alone, in turn (and 10, 25 badges for the growth curve).

The two workers are new members of the measured structure, signed in with a password; their
badges are issued through ``services.badges.issue`` (approved decisions, real JWSs) and
accepted through ``services.consent.accept``, on a copy of the issuance database.
"""

from __future__ import annotations

import io
import shutil
import statistics
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.domain.consent import Consent
from app.domain.enums import Role
from app.extensions import db
from app.models import Assertion, Observation, Proposal, Structure, User
from app.models.base import utcnow
from app.queries import portfolio as queries
from app.services import accounts, assessments, badge_export, consent, structures
from app.services import badge_pdf as pdfs
from app.services import badges as service
from app.services.public_urls import PublicUrls
from bench.openbadges import _fill_assertions as fill_assertions
from bench.sql import count_statements, query_plan, recorded_statements
from bench.world import PASSWORD, World, dispose, make_app

#: Accepted badges of the two workers whose list is compared.
MANY = 200
FEW = 10
#: Observations cited as evidence by each decision (the narrative printed on each badge).
EVIDENCE = 4
#: List: requests per worker after a warm-up, alternating.
LIST_ROUNDS = 25
LIST_WARMUP = 3
#: Passport: badges in it; rounds of (passport, one page per badge) in turn.
PASSPORT_BADGES = 20
PDF_ROUNDS = 7
#: Export: badges in the big archive, smaller archives for the growth curve, rounds.
EXPORT_BADGES = 50
EXPORT_SIZES = (10,)
EXPORT_ROUNDS = 3

LOGINS = {MANY: "banc.badges.nombreux", FEW: "banc.badges.quelques"}


@dataclass(frozen=True)
class Earners:
    """The database with the two workers' badges, and their logins by badge count."""

    url: str
    logins: dict[int, str]
    badge_classes: int
    assertions: int
    setup_s: float


def _worker(session: Any, structure: Structure, login: str, first: str) -> Any:
    now = utcnow()
    user = accounts.create_user(
        session, first_name=first, last_name="Portfolio", login=login, now=now, secret=PASSWORD
    )
    return structures.add_member(
        session, actor=None, structure=structure, user=user, roles={Role.SALARIE}, now=now
    )


def _evidence(session: Any, world: World) -> list[str]:
    """Observation ids cited by every decision: only their count, dates and observers are
    printed (the narrative names nobody), so a team worker's serve for the bench workers."""
    return list(
        session.scalars(
            select(Observation.public_id)
            .where(Observation.worker_id == world.team_worker_pks[0], Observation.level >= 3)
            .order_by(Observation.id)
            .limit(EVIDENCE)
        )
    )


def _issue_accepted(
    session: Any, world: World, worker: Any, count: int, issuing: service.Issuing
) -> None:
    """``count`` badges for ``worker``: an approved decision each (cycling through the current
    templates × tiers), issued a day apart, accepted, every other one shown on the profile."""
    templates = assessments.current_templates(session)
    combos = [(t, tier["level"]) for t in templates for tier in t.tiers]
    evidence = _evidence(session, world)
    now = utcnow()
    proposals = [
        Proposal(
            structure_id=worker.structure_id,
            worker_id=worker.id,
            template_id=template.id,
            level=level,
            origin="criteria",
            status="approved",
            created_at=now - timedelta(days=count + 1),
            decided_at=now - timedelta(days=count),
            decided_by_id=world.encadrant_user_pk,
            criteria=[],
            evidence=evidence,
        )
        for template, level in (combos[n % len(combos)] for n in range(count))
    ]
    session.add_all(proposals)
    session.flush()
    for n, proposal in enumerate(proposals):
        assertion = service.issue(
            session,
            proposal,
            issuing=issuing,
            now=now,
            issued_on=now - timedelta(days=count - n),
        )
        consent.accept(session, assertion, actor=worker.user, show=n % 2 == 0, now=now)


def earners_database(
    world: World, workdir: Path, source_url: str, assertions: int | None
) -> Earners:
    """A copy of ``source_url`` (the issuance database) filled by SQL to ``assertions``
    badges of the team (as for the hosted JSON figure; None: not filled), then the two
    workers and their accepted badges; their class artwork is rendered here, before timing."""
    started = time.perf_counter()
    path = workdir / f"portfolio-{assertions or 'issued'}.sqlite3"
    shutil.copyfile(source_url.removeprefix("sqlite:///"), path)
    if assertions is not None:
        fill_assertions(str(path), assertions)
    url = f"sqlite:///{path}"
    app = make_app(url, world.keys_dir)
    try:
        with app.app_context():
            session = db.session
            issuing = service.Issuing.from_config(app.config)
            structure = session.scalars(
                select(Structure).where(Structure.public_id == world.structure_id)
            ).one()
            for count, login in LOGINS.items():
                worker = _worker(session, structure, login, f"Badges{count}")
                _issue_accepted(session, world, worker, count, issuing)
            session.commit()
            classes = session.scalar(
                select(db.func.count(db.distinct(Assertion.badge_class_id))).where(
                    Assertion.user_id.in_(select(User.id).where(User.login.in_(LOGINS.values())))
                )
            )
            total = session.scalar(select(db.func.count()).select_from(Assertion))
    finally:
        dispose(app)
    return Earners(
        url, dict(LOGINS), int(classes or 0), int(total or 0), time.perf_counter() - started
    )


def _signed_in(app: Flask, login: str) -> FlaskClient:
    client = app.test_client()
    response = client.post("/connexion", data={"login": login, "secret": PASSWORD})
    if response.status_code != 302 or response.headers["Location"].endswith("/moi/code"):
        raise RuntimeError(f"{login}: sign-in failed ({response.status_code})")
    return client


def _user(login: str) -> User:
    return db.session.scalars(select(User).where(User.login == login)).one()


def _accepted(login: str) -> list[Assertion]:
    """The worker's accepted badges, loaded as the export route loads them."""
    badges = queries.earner_badges(db.session, _user(login))
    return [a for a in badges if a.consent == Consent.ACCEPTED]


# -- GET /moi/badges, many ÷ few -----------------------------------------------------------

_CARD = 'class="card badge-card'
#: Marks the statement that reads the worker's badges (replaced ones left out).
_LIST_MARK = "WHERE NOT (EXISTS (SELECT"


def _list_page(client: FlaskClient, expected: int) -> None:
    response = client.get("/moi/badges")
    cards = response.get_data(as_text=True).count(_CARD)
    if response.status_code != 200 or cards != expected:
        raise RuntimeError(f"/moi/badges: {response.status_code}, {cards} cards, not {expected}")


def _image_bytes(login: str) -> int:
    """Class artwork bytes (PNG and SVG) in the rows the list's query returns."""
    return sum(
        len(a.badge_class.image_png) + len(a.badge_class.image_svg.encode("utf-8"))
        for a in queries.earner_badges(db.session, _user(login))
    )


def _list_times(world: World, earners: Earners) -> dict[str, Any]:
    """Median ``GET /moi/badges`` time of each worker (alternating), the statements of one
    request of each, and the plan of the list's query."""
    app = make_app(earners.url, world.keys_dir, WTF_CSRF_ENABLED=False)
    sizes = (FEW, MANY)
    try:
        clients = {n: _signed_in(app, earners.logins[n]) for n in sizes}
        for n in sizes:
            for _ in range(LIST_WARMUP):
                _list_page(clients[n], n)
        times: dict[int, list[float]] = {n: [] for n in sizes}
        for r in range(LIST_ROUNDS):
            for n in sizes if r % 2 == 0 else sizes[::-1]:
                started = time.perf_counter()
                _list_page(clients[n], n)
                times[n].append(time.perf_counter() - started)
        statements = {
            n: recorded_statements(app, lambda c=clients[n], n=n: _list_page(c, n)) for n in sizes
        }
        listing = next((s for s in statements[MANY] if _LIST_MARK in s[0]), None)
        plan = query_plan(app, *listing) if listing else ["(the list's statement was not found)"]
        with app.app_context():
            images = {n: _image_bytes(earners.logins[n]) for n in sizes}
            db.session.remove()
    finally:
        dispose(app)
    return {
        "medians": {n: statistics.median(times[n]) for n in sizes},
        "statements": {n: len(statements[n]) for n in sizes},
        "query": " ".join(listing[0].split()) if listing else None,
        "plan": plan,
        "images": images,
    }


def badge_list(world: World, earners: Earners, issued: Earners) -> dict[str, Any]:
    """Median ``GET /moi/badges`` time with ``MANY`` ÷ with ``FEW`` accepted badges, on
    ``earners``; the same on ``issued`` (the issuance database not filled), for context."""
    filled = _list_times(world, earners)
    bare = _list_times(world, issued)
    few, many = filled["medians"][FEW], filled["medians"][MANY]
    return {
        "ratio": many / few,
        "few": FEW,
        "many": MANY,
        "few_ms": round(few * 1000, 2),
        "many_ms": round(many * 1000, 2),
        "per_badge_ms": round((many - few) / (MANY - FEW) * 1000, 3),
        "statements_few": filled["statements"][FEW],
        "statements_many": filled["statements"][MANY],
        "list_query": filled["query"],
        "list_plan": filled["plan"],
        "assertions": earners.assertions,
        "issued_assertions": issued.assertions,
        "issued_few_ms": round(bare["medians"][FEW] * 1000, 2),
        "issued_many_ms": round(bare["medians"][MANY] * 1000, 2),
        "issued_ratio": round(bare["medians"][MANY] / bare["medians"][FEW], 3),
        "issued_plan": bare["plan"],
        "image_bytes_few": filled["images"][FEW],
        "image_bytes_many": filled["images"][MANY],
        "badge_classes": earners.badge_classes,
        "rounds": LIST_ROUNDS,
    }


# -- Passport of N badges ÷ N one-page PDFs ------------------------------------------------


def _cpu(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``work()``, and what it returned."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def passport(world: World, earners: Earners) -> dict[str, Any]:
    """CPU time of one passport of ``PASSPORT_BADGES`` badges ÷ that of one badge PDF each."""
    app = make_app(earners.url, world.keys_dir, WTF_CSRF_ENABLED=False)
    try:
        with app.app_context():
            urls = PublicUrls(app.config["BASE_URL"])
            owner = _user(earners.logins[MANY])
            now = utcnow()
            chosen = _accepted(earners.logins[MANY])[:PASSPORT_BADGES]
            sheets = [pdfs.sheet_for(a, urls, now) for a in chosen]
            owner_name = owner.display_name or None
            query = "&".join(f"badge={a.public_id}" for a in chosen)
            db.session.remove()
        # The route, outside this app context: each request has its own session.
        http = _signed_in(app, earners.logins[MANY])
        statements = count_statements(
            app, lambda: _ok(http.get(f"/moi/badges/passeport.pdf?{query}"))
        )
    finally:
        dispose(app)

    def one_passport() -> bytes:
        return pdfs.passport_pdf(sheets, owner_name=owner_name, generated_on=sheets[0].status_on)

    def one_each() -> list[bytes]:
        return [pdfs.badge_pdf(sheet) for sheet in sheets]

    sides: dict[str, Callable[[], Any]] = {"passport": one_passport, "pages": one_each}
    sizes = {"passport": len(one_passport()), "pages": sum(len(b) for b in one_each())}
    wall: dict[str, list[float]] = {name: [] for name in sides}
    cpu: dict[str, list[float]] = {name: [] for name in sides}
    names = list(sides)
    for r in range(PDF_ROUNDS):
        for name in names if r % 2 == 0 else names[::-1]:
            w, c, _ = _cpu(sides[name])
            wall[name].append(w)
            cpu[name].append(c)
    paired = [p / e for p, e in zip(cpu["passport"], cpu["pages"], strict=True)]
    wall_paired = [p / e for p, e in zip(wall["passport"], wall["pages"], strict=True)]
    return {
        "ratio": statistics.median(paired),
        "wall_ratio": round(statistics.median(wall_paired), 3),
        "badges": PASSPORT_BADGES,
        "passport_ms": round(statistics.median(cpu["passport"]) * 1000, 1),
        "pages_ms": round(statistics.median(cpu["pages"]) * 1000, 1),
        "passport_pages": -(-PASSPORT_BADGES // pdfs.BADGES_PER_PAGE),
        "passport_bytes": sizes["passport"],
        "pages_bytes": sizes["pages"],
        "statements_passport": statements,
        "rounds": PDF_ROUNDS,
        "rounds_ratio": [round(p, 3) for p in paired],
    }


def _ok(response: Any) -> None:
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.path}: {response.status_code}")


# -- Export of N badges ÷ N exports of one ---------------------------------------------------


def _check_archive(body: bytes, badges: int) -> None:
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        names = archive.namelist()
        if archive.testzip() is not None or len(names) != 2 + 6 * badges:
            raise RuntimeError(f"export of {badges} badges: {len(names)} files")


def export(world: World, earners: Earners) -> dict[str, Any]:
    """CPU time of one export of ``EXPORT_BADGES`` badges ÷ that of one export of each alone;
    exports of ``EXPORT_SIZES`` badges too, for the cost per badge as the archive grows."""
    app = make_app(earners.url, world.keys_dir, WTF_CSRF_ENABLED=False)
    try:
        with app.app_context():
            urls = PublicUrls(app.config["BASE_URL"])
            login = earners.logins[MANY]
            owner = _user(login)
            badges = _accepted(login)[:EXPORT_BADGES]
            now = utcnow()

            def archive(chosen: list[Assertion]) -> bytes:
                return badge_export.export_archive(chosen, urls=urls, owner=owner, now=now)

            def each_alone() -> int:
                return sum(len(archive([a])) for a in badges)

            # Once the badges are loaded, building the archive reads nothing more.
            first: list[bytes] = []
            inside = count_statements(app, lambda: first.append(archive(badges)))
            _check_archive(first[0], EXPORT_BADGES)
            _check_archive(archive(badges[:1]), 1)
            sides: dict[str, Callable[[], Any]] = {
                "all": lambda: len(archive(badges)),
                "alone": each_alone,
                **{f"n{n}": lambda n=n: len(archive(badges[:n])) for n in EXPORT_SIZES},
            }
            cpu: dict[str, list[float]] = {name: [] for name in sides}
            wall: dict[str, list[float]] = {name: [] for name in sides}
            sizes: dict[str, int] = {}
            names = list(sides)
            for r in range(EXPORT_ROUNDS):
                for name in names[r % len(names) :] + names[: r % len(names)]:
                    w, c, sizes[name] = _cpu(sides[name])
                    wall[name].append(w)
                    cpu[name].append(c)
            db.session.remove()
        client = _signed_in(app, earners.logins[FEW])
        route = count_statements(app, lambda: _ok(client.get("/moi/badges/export.zip")))
    finally:
        dispose(app)
    paired = [a / e for a, e in zip(cpu["all"], cpu["alone"], strict=True)]
    wall_paired = [a / e for a, e in zip(wall["all"], wall["alone"], strict=True)]
    per_badge = {1: statistics.median(cpu["alone"]) / EXPORT_BADGES}
    per_badge |= {n: statistics.median(cpu[f"n{n}"]) / n for n in EXPORT_SIZES}
    per_badge[EXPORT_BADGES] = statistics.median(cpu["all"]) / EXPORT_BADGES
    return {
        "ratio": statistics.median(paired),
        "wall_ratio": round(statistics.median(wall_paired), 3),
        "badges": EXPORT_BADGES,
        "all_ms": round(statistics.median(cpu["all"]) * 1000, 1),
        "alone_ms": round(statistics.median(cpu["alone"]) * 1000, 1),
        "one_ms": round(statistics.median(cpu["alone"]) / EXPORT_BADGES * 1000, 1),
        "per_badge_ms": {str(n): round(per_badge[n] * 1000, 1) for n in sorted(per_badge)},
        "all_bytes": sizes["all"],
        "alone_bytes": sizes["alone"],
        "statements_archive": inside,
        "statements_route_few": route,
        "few": FEW,
        "rounds": EXPORT_ROUNDS,
        "rounds_ratio": [round(p, 3) for p in paired],
    }
