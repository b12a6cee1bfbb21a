"""A throw-away PostgreSQL server for the test session (MACHINE.md: it refuses root)."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN_ROOT = Path("/usr/lib/postgresql")


def _bin(name: str) -> str:
    versions = sorted(PG_BIN_ROOT.glob("*/bin"), reverse=True)
    if not versions:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    return str(versions[0] / name)


def _as_postgres(args: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@dataclass
class ThrowAwayPostgres:
    directory: Path

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://jalon@/postgres?host={self.directory}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://jalon@/{database}?host={self.directory}"

    def stop(self) -> None:
        subprocess.run(
            _as_postgres(
                [_bin("pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(self.directory, ignore_errors=True)


def start() -> ThrowAwayPostgres:
    """initdb and start a server listening only on a Unix socket in a fresh directory."""
    directory = Path(tempfile.mkdtemp(prefix="jpg", dir="/tmp"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(directory, pw.pw_uid, pw.pw_gid)
    subprocess.run(
        _as_postgres(
            [
                _bin("initdb"),
                "-D",
                str(directory / "data"),
                "-A",
                "trust",
                "-U",
                "jalon",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        ),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres(
            [
                _bin("pg_ctl"),
                "-D",
                str(directory / "data"),
                "-w",
                "-l",
                str(directory / "log"),
                "-o",
                f"-k {directory} -c listen_addresses='' -c fsync=off -c full_page_writes=off "
                "-c synchronous_commit=off -c max_connections=200",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    return ThrowAwayPostgres(directory)
