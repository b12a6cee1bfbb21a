"""``python -m bench``: build the databases, measure, write docs/benchmarks.{md,json}."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import assessments, capture, filler, journey, portfolio, team_page, verification, world
from bench import openbadges as badges
from bench.report import Figure, write

ROOT = Path(__file__).resolve().parent.parent
_STARTED = time.perf_counter()


@dataclass(frozen=True)
class Databases:
    """The seeded world and its two database files, with their observation counts."""

    world: world.World
    small_url: str
    small: int
    large_url: str
    large: int
    filler_workers: int


def _log(message: str) -> None:
    elapsed = time.perf_counter() - _STARTED
    print(f"[bench {elapsed:6.1f} s] {message}", file=sys.stderr, flush=True)


def _n(count: int) -> str:
    return f"{count:,}".replace(",", " ")


def _rates(result: dict[str, Any]) -> str:
    return f"real {result['real_per_s']}/s, bare {result['bare_per_s']}/s"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--small", type=int, default=10_000, help="observations, small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="observations, large one")
    parser.add_argument(
        "--assertions-small", type=int, default=10_000, help="assertions, small database"
    )
    parser.add_argument(
        "--assertions-large", type=int, default=1_000_000, help="assertions, large one"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where to write")
    return parser.parse_args(argv)


def build_databases(workdir: Path, small: int, large: int) -> Databases:
    """Seed a world, fill it to ``small`` observations, and a copy of it to ``large``."""
    _log("migrating and seeding a fresh SQLite database")
    w = world.build(workdir)
    small_path = w.url.removeprefix("sqlite:///")
    conn = filler.connect(small_path)
    filler_workers = filler.add_workers(conn, w)
    filler.add_team_observations(conn, w)
    filler.fill_to(conn, w, small)
    small_count = filler.observation_count(conn)
    conn.close()
    large_path = workdir / "bench-large.sqlite3"
    shutil.copyfile(small_path, large_path)
    _log(f"{_n(small_count)} observations; filling a copy to {_n(large)}")
    conn = filler.connect(str(large_path))
    filler.fill_to(conn, w, large)
    large_count = filler.observation_count(conn)
    conn.close()
    return Databases(w, w.url, small_count, f"sqlite:///{large_path}", large_count, filler_workers)


def measure(dbs: Databases) -> list[Figure]:
    """Every figure, measured on ``dbs``."""
    w = dbs.world
    _log("timing the team page on both databases")
    page = team_page.measure(w, dbs.small_url, dbs.large_url)
    page.update(small=dbs.small, large=dbs.large)
    _log(f"team page: {page['small_ms']} ms vs {page['large_ms']} ms")
    _log("capture throughput, small database")
    loaded, single = capture.measure(w, dbs.small_url, capture.CONNECTIONS)
    _log(f"capture: {_rates(loaded)}; one client: {_rates(single)}")
    _log("capture throughput, large database")
    (loaded_large,) = capture.measure(w, dbs.large_url, capture.CONNECTIONS[:1])
    _log(f"capture: {_rates(loaded_large)}")
    statements = capture.statements(w, dbs.small_url)
    n = capture.CONNECTIONS[0]
    recompute = _recompute_figures(dbs)
    _log("timing the journey page (300 records) on both databases")
    trail = journey.measure(w, dbs.small_url, dbs.large_url)
    _log(
        f"journey: {trail['small_ms']} ms vs {trail['large_ms']} ms, "
        f"{trail['statements_small']} vs {trail['statements_large']} SQL statements"
    )
    return [
        Figure(
            "journey_page_time_ratio",
            f"Journey page (300 records) time, {_n(dbs.large)} ÷ {_n(dbs.small)} observations",
            trail.pop("ratio"),
            "≤",
            1.3,
            details={**trail, "small": dbs.small, "large": dbs.large},
        ),
        Figure(
            "journey_page_statements",
            "SQL statements of one journey page request (1 M observations, 300 records)",
            float(trail["statements_large"]),
            "≤",
            float(trail["statements_small"]),
            unit="statements",
            details={
                "statements_small": trail["statements_small"],
                "statements_large": trail["statements_large"],
            },
        ),
        _capture_figure("capture_throughput_ratio", f"{n} clients", loaded, dbs.small, statements),
        _capture_figure(
            "capture_throughput_ratio_one_client", "1 client", single, dbs.small, statements
        ),
        _capture_figure(
            "capture_throughput_ratio_large", f"{n} clients", loaded_large, dbs.large, statements
        ),
        Figure(
            "team_page_time_ratio",
            f"Team page time, {_n(dbs.large)} ÷ {_n(dbs.small)} observations",
            page.pop("ratio"),
            "≤",
            1.3,
            details={**page, "observations_per_worker": filler.TEAM_OBSERVATIONS},
        ),
        *recompute,
    ]


def _recompute_figures(dbs: Databases) -> list[Figure]:
    """Recompute of one worker on both databases; full recompute against one SQL aggregate."""
    w = dbs.world
    _log("recompute of one worker on both databases")
    one = assessments.one_worker(w, dbs.small_url, dbs.large_url)
    one.update(small=dbs.small, large=dbs.large)
    _log(f"one worker: {one['small_ms']} ms vs {one['large_ms']} ms CPU")
    figures = [
        Figure(
            "recompute_worker_time_ratio",
            f"Recompute of one worker ({filler.TEAM_OBSERVATIONS} observations), "
            f"{_n(dbs.large)} ÷ {_n(dbs.small)} observations",
            one.pop("ratio"),
            "≤",
            1.3,
            details=one,
        )
    ]
    for name, url, total in (
        ("full_recompute_ratio", dbs.small_url, dbs.small),
        ("full_recompute_ratio_large", dbs.large_url, dbs.large),
    ):
        _log(f"full recompute against one SQL aggregate, {_n(total)} observations")
        full = assessments.full_recompute(w, url)
        full["observations"] = total
        if total != dbs.large:
            full.pop("aggregate_plans")  # the large database's plans are the ones shown
        _log(f"recompute {full['recompute_s']} s vs SQL {full['sql_ms']} ms CPU")
        title = (
            f"Full recompute ÷ one SQL aggregate, {_n(full['structure_observations'])} "
            f"of {_n(total)} observations"
        )
        figures.append(Figure(name, title, full.pop("ratio"), "≥", 0.2, details=full))
    return figures


def openbadges_figures(
    dbs: Databases, workdir: Path, url: str, small: int, large: int
) -> list[Figure]:
    """Issuance, baking and hosted JSON (issue #8), on ``url``, a copy of the small database."""
    w = dbs.world
    _log("bulk issuance against bare RSA signatures")
    issued = badges.issuance(w, url)
    _log(f"issuance: {issued['issued_per_s']}/s, signatures {issued['signatures_per_s']}/s")
    _log("baking a BadgeClass PNG: Jalon, openbadges-bakery, Pillow")
    baked = badges.baking(w, url)
    _log(f"baking: {baked['jalon_per_s']}/s, {baked['bakery_per_s']}/s, {baked['pillow_per_s']}/s")
    accepted = badges.accept_issued(w, url)
    _log(f"{accepted} issued badges accepted by their earners")
    _log(f"filling copies to {_n(small)} and {_n(large)} assertions")
    small_url, small_count, large_url, large_count = badges.build_assertion_databases(
        workdir, url, small, large
    )
    _log("timing GET /badges/<id>.json on both databases")
    hosted = badges.assertion_json(w, small_url, large_url)
    hosted.update(assertions_small=small_count, assertions_large=large_count)
    _log(f"assertion JSON: {hosted['small_ms']} ms vs {hosted['large_ms']} ms")
    shared = {k: baked[k] for k in baked if not k.startswith("ratio")}
    return [
        Figure(
            "issuance_throughput_ratio",
            "Bulk issuance (rows, JWS, audit, committed) ÷ bare RSA-2048 signatures",
            issued.pop("ratio"),
            "≥",
            0.5,
            details=issued,
        ),
        Figure(
            "baking_png_ratio_bakery",
            "PNG baking on download (`bake_class_png`) ÷ openbadges-bakery 2.0.0",
            baked["ratio_bakery"],
            "≥",
            20,
            details=shared,
        ),
        Figure(
            "baking_png_ratio_pillow",
            "PNG baking on download (`bake_class_png`) ÷ a Pillow re-encode (informational)",
            baked["ratio_pillow"],
            "≥",
            1,
            details=shared,
        ),
        Figure(
            "assertion_json_time_ratio",
            f"Hosted assertion JSON time, {_n(large_count)} ÷ {_n(small_count)} assertions",
            hosted.pop("ratio"),
            "≤",
            1.3,
            details=hosted,
        ),
    ]


def verification_figures(
    dbs: Databases, workdir: Path, issued_url: str, small: int, large: int
) -> list[Figure]:
    """Verification (issues #9, #11): against RSA, against the official validator, the
    employer's page against the library, and with ``small`` then ``large`` revoked
    assertions; ``issued_url`` holds the issued badges."""
    w = dbs.world
    url = verification.verification_database(w, workdir, issued_url)
    _log("library verification of a signed badge against bare RSA verifications")
    lib = verification.library(w, url)
    _log(f"verification: {lib['library_per_s']}/s, RSA {lib['rsa_per_s']}/s")
    _log("verify_badge against the official validator (in its own interpreter)")
    versus = verification.against_validator(w, url, workdir)
    _log(f"verify_badge {versus['ours_per_s']}/s, validator {versus['validator_per_s']}/s")
    _log("POST /verifier with a baked PNG against verify_badge of the same bytes")
    shown = verification.page(w, url)
    _log(f"/verifier {shown['page_per_s']}/s, verify_badge {shown['verify_badge_per_s']}/s")
    live = badges.assertion_count(issued_url)
    _log(f"filling copies with {_n(small)} and {_n(large)} revoked assertions")
    small_url, _, large_url, _ = badges.build_assertion_databases(
        workdir, issued_url, live + small, live + large, revoked=True
    )
    _log("timing verify_badge of live signed badges on both databases")
    listed = verification.with_revoked(w, small_url, large_url)
    _log(f"verify_badge: {listed['small_ms']} ms vs {listed['large_ms']} ms")
    return [
        Figure(
            "verification_library_ratio",
            "Signed badge verification, `openbadges.verify` (documents in memory) ÷ bare "
            "RSA-2048 verifications",
            lib.pop("ratio"),
            "≥",
            0.3,
            details=lib,
        ),
        Figure(
            "verification_validator_ratio",
            "Badge verification (JWS, baked PNG and SVG), `verify_badge` from the database ÷ "
            "the official validator in-process",
            versus.pop("ratio"),
            "≥",
            100,
            details=versus,
        ),
        Figure(
            "verification_page_ratio",
            "Employer's page, `POST /verifier` with a baked PNG (verification counted and "
            "committed) ÷ `verify_badge` of the same PNG",
            shown.pop("ratio"),
            "≥",
            0.3,
            details=shown,
        ),
        Figure(
            "verification_revoked_time_ratio",
            f"Signed badge verification time, {_n(listed['revoked_large'])} ÷ "
            f"{_n(listed['revoked_small'])} revoked assertions listed",
            listed.pop("ratio"),
            "≤",
            1.3,
            details=listed,
        ),
    ]


def portfolio_figures(dbs: Databases, workdir: Path, issued_url: str, total: int) -> list[Figure]:
    """The worker's badge space (issue #10): the list with many badges against few, the
    passport against one PDF per badge, the ZIP export of many against one at a time; on a
    copy of ``issued_url`` filled to ``total`` assertions, with two workers' accepted badges."""
    w = dbs.world
    _log(
        f"two workers with {portfolio.MANY} and {portfolio.FEW} accepted badges, "
        f"{_n(total)} assertions"
    )
    earners = portfolio.earners_database(w, workdir, issued_url, total)
    issued = portfolio.earners_database(w, workdir, issued_url, None)
    _log(f"GET /moi/badges, {portfolio.MANY} ÷ {portfolio.FEW} badges")
    listed = portfolio.badge_list(w, earners, issued)
    _log(
        f"list: {listed['many_ms']} ms vs {listed['few_ms']} ms, "
        f"{listed['statements_many']} vs {listed['statements_few']} SQL statements; "
        f"{listed['issued_many_ms']} ms vs {listed['issued_few_ms']} ms with "
        f"{_n(listed['issued_assertions'])} assertions"
    )
    _log(f"passport of {portfolio.PASSPORT_BADGES} badges against one PDF each")
    printed = portfolio.passport(w, earners)
    _log(f"passport {printed['passport_ms']} ms vs {printed['pages_ms']} ms CPU")
    _log(f"export of {portfolio.EXPORT_BADGES} badges against one export each")
    kept = portfolio.export(w, earners)
    _log(f"export {kept['all_ms']} ms vs {kept['alone_ms']} ms CPU")
    return [
        Figure(
            "portfolio_list_time_ratio",
            f"Worker's badge list `GET /moi/badges`, {portfolio.MANY} ÷ {portfolio.FEW} "
            f"accepted badges, {_n(listed['assertions'])} assertions stored",
            listed.pop("ratio"),
            "≤",
            10,
            details=listed,
        ),
        Figure(
            "passport_pdf_ratio",
            f"Passport PDF of {portfolio.PASSPORT_BADGES} badges ÷ "
            f"{portfolio.PASSPORT_BADGES} one-page badge PDFs",
            printed.pop("ratio"),
            "≤",
            1,
            details=printed,
        ),
        Figure(
            "export_zip_growth_ratio",
            f"ZIP export of {portfolio.EXPORT_BADGES} badges ÷ {portfolio.EXPORT_BADGES} "
            "exports of one badge",
            kept.pop("ratio"),
            "≤",
            1.2,
            details=kept,
        ),
    ]


def _capture_figure(
    name: str, clients: str, result: dict[str, Any], observations: int, statements: dict[str, int]
) -> Figure:
    ratio = result.pop("ratio")
    return Figure(
        name,
        f"Capture throughput ÷ bare endpoint, {clients}, {_n(observations)} observations",
        ratio,
        "≥",
        0.3,
        details={
            **result,
            "observations": observations,
            "statements_real": statements["real"],
            "statements_bare": statements["bare"],
        },
    )


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark once and write the report; a missed goal is reported, not fatal."""
    args = _arguments(argv)
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="jalon-bench-") as tmp:
        dbs = build_databases(Path(tmp), args.small, args.large)
        figures = measure(dbs)
        url = badges.badges_database(Path(tmp), dbs.small_url)
        figures += openbadges_figures(
            dbs, Path(tmp), url, args.assertions_small, args.assertions_large
        )
        figures += verification_figures(
            dbs, Path(tmp), url, args.assertions_small, args.assertions_large
        )
        figures += portfolio_figures(dbs, Path(tmp), url, args.assertions_small)
    run = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"CPython {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "cores": os.cpu_count(),
        "load": load,
        "seconds": time.perf_counter() - _STARTED,
    }
    method = {
        "connections": capture.CONNECTIONS[0],
        "requests": capture.REQUESTS,
        "rounds": capture.ROUNDS,
        "team_size": world.TEAM_SIZE,
        "per_worker": filler.TEAM_OBSERVATIONS,
        "filler_workers": _n(dbs.filler_workers),
        "others": world.OTHER_STRUCTURES,
        "small": _n(dbs.small),
        "large": _n(dbs.large),
        "page_rounds": team_page.ROUNDS,
        "recompute_rounds": assessments.ROUNDS,
        "full_rounds": assessments.FULL_ROUNDS,
        "issue_batch": badges.ISSUE_BATCH,
        "issue_rounds": badges.ISSUE_ROUNDS,
        "sign_batch": badges.SIGN_BATCH,
        "evidence": badges.EVIDENCE,
        "bake_rounds": badges.BAKE_ROUNDS,
        "bake_seconds": badges.BAKE_SECONDS,
        "assertions_small": _n(args.assertions_small),
        "assertions_large": _n(args.assertions_large),
        "json_rounds": badges.JSON_ROUNDS,
        "revoked_sample": verification.REVOKED_SAMPLE,
        "library_seconds": verification.LIBRARY_SECONDS,
        "library_rounds": verification.LIBRARY_ROUNDS,
        "validator_rounds": verification.VALIDATOR_ROUNDS,
        "ours_seconds": verification.OURS_SECONDS,
        "revoked_rounds": verification.REVOKED_ROUNDS,
        "verifier_rounds": verification.PAGE_ROUNDS,
        "verifier_seconds": verification.PAGE_SECONDS,
        "many": portfolio.MANY,
        "few": portfolio.FEW,
        "portfolio_assertions": _n(args.assertions_small),
        "list_rounds": portfolio.LIST_ROUNDS,
        "passport_badges": portfolio.PASSPORT_BADGES,
        "per_page": portfolio.pdfs.BADGES_PER_PAGE,
        "pdf_rounds": portfolio.PDF_ROUNDS,
        "export_badges": portfolio.EXPORT_BADGES,
        "export_sizes": ", ".join(str(n) for n in portfolio.EXPORT_SIZES),
        "export_rounds": portfolio.EXPORT_ROUNDS,
    }
    write(args.out, figures, run, method)
    for f in figures:
        print(f"{f.name}: {f.value:.3f} (goal {f.goal}) {'met' if f.met else 'MISSED'}")
    print(f"Written: {args.out / 'benchmarks.md'}, {args.out / 'benchmarks.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
