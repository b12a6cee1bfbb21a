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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import capture, filler, team_page, world
from bench.report import Figure, write

ROOT = Path(__file__).resolve().parent.parent


def _log(started: float, message: str) -> None:
    print(f"[bench {time.perf_counter() - started:6.1f} s] {message}", file=sys.stderr, flush=True)


def _n(count: int) -> str:
    return f"{count:,}".replace(",", " ")


def _rates(result: dict[str, Any]) -> str:
    return f"real {result['real_per_s']}/s, bare {result['bare_per_s']}/s"


def _capture_figure(name: str, clients: str, result: dict[str, Any], observations: int) -> Figure:
    ratio = result.pop("ratio")
    return Figure(
        name,
        f"Capture throughput ÷ bare endpoint, {clients}, {_n(observations)} observations",
        ratio,
        "≥",
        0.3,
        details={**result, "observations": observations},
    )


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--small", type=int, default=10_000, help="observations, small database")
    parser.add_argument("--large", type=int, default=1_000_000, help="observations, large one")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="where to write")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run every benchmark once and write the report; a missed goal is reported, not fatal."""
    args = _arguments(argv)
    started = time.perf_counter()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="jalon-bench-") as tmp:
        workdir = Path(tmp)
        _log(started, "migrating and seeding a fresh SQLite database")
        w = world.build(workdir)
        small_path = w.url.removeprefix("sqlite:///")
        conn = filler.connect(small_path)
        filler_workers = filler.add_workers(conn, w)
        filler.add_team_observations(conn, w)
        filler.fill_to(conn, w, args.small)
        small_count = filler.observation_count(conn)
        conn.close()
        large_path = str(workdir / "bench-large.sqlite3")
        shutil.copyfile(small_path, large_path)
        _log(started, f"{small_count:,} observations; filling a copy to {args.large:,}")
        conn = filler.connect(large_path)
        filler.fill_to(conn, w, args.large)
        large_count = filler.observation_count(conn)
        conn.close()
        large_url = f"sqlite:///{large_path}"

        _log(started, "timing the team page on both databases")
        page = team_page.measure(w, w.url, large_url)
        page.update(small=small_count, large=large_count)
        _log(started, f"team page: {page['small_ms']} ms vs {page['large_ms']} ms")
        _log(started, "capture throughput, small database")
        loaded, single = capture.measure(w, w.url, capture.CONNECTIONS)
        _log(started, f"capture: {_rates(loaded)}; one client: {_rates(single)}")
        _log(started, "capture throughput, large database")
        (loaded_large,) = capture.measure(w, large_url, capture.CONNECTIONS[:1])
        _log(started, f"capture: {_rates(loaded_large)}")

    n = capture.CONNECTIONS[0]
    figures = [
        _capture_figure("capture_throughput_ratio", f"{n} clients", loaded, small_count),
        _capture_figure("capture_throughput_ratio_one_client", "1 client", single, small_count),
        _capture_figure(
            "capture_throughput_ratio_large", f"{n} clients", loaded_large, large_count
        ),
        Figure(
            "team_page_time_ratio",
            f"Team page time, {_n(large_count)} ÷ {_n(small_count)} observations",
            page.pop("ratio"),
            "≤",
            1.3,
            details={**page, "observations_per_worker": filler.TEAM_OBSERVATIONS},
        ),
    ]
    run = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": f"CPython {platform.python_version()}",
        "sqlite": sqlite3.sqlite_version,
        "cores": os.cpu_count(),
        "load": load,
        "seconds": time.perf_counter() - started,
    }
    method = {
        "connections": capture.CONNECTIONS[0],
        "requests": capture.REQUESTS,
        "rounds": capture.ROUNDS,
        "team_size": world.TEAM_SIZE,
        "per_worker": filler.TEAM_OBSERVATIONS,
        "filler_workers": _n(filler_workers),
        "others": world.OTHER_STRUCTURES,
        "small": _n(small_count),
        "large": _n(large_count),
        "page_rounds": team_page.ROUNDS,
    }
    write(args.out, figures, run, method)
    for f in figures:
        verdict = "met" if f.met else "MISSED"
        print(f"{f.name}: {f.value:.3f} (goal {f.goal}) {verdict}")
    print(f"Written: {args.out / 'benchmarks.md'}, {args.out / 'benchmarks.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
