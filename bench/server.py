"""The server under load: Jalon plus a bare baseline endpoint, in a process of its own.

The baseline is registered only in this process's application, after ``create_app``: it
gets the same access rule as the real capture endpoint (so the same bearer-token lookup,
structure and membership checks run before it), then inserts one row into a bench-only
table and commits on the same database. The ratio of the two throughputs is then what the
capture itself costs: parsing, checks, four rows, the audit event and the JSON answer.

The server runs in a child process so that the client threads driving it do not share its
interpreter lock.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g
from sqlalchemy import text
from werkzeug.serving import make_server

BARE_TABLE = "bench_bare_rows"
BARE_ENDPOINT = "bench_bare.insert"


def bare_path(structure_id: str) -> str:
    """The baseline endpoint's URL for a structure."""
    return f"/bench/structures/{structure_id}/bare"


def _bare_blueprint() -> Blueprint:
    from app.extensions import db
    from app.web.utils import now

    bp = Blueprint("bench_bare", __name__, url_prefix="/bench/structures/<structure_id>")

    @bp.post("/bare")
    def insert(structure_id: str):  # type: ignore[no-untyped-def]
        db.session.execute(
            text(f"INSERT INTO {BARE_TABLE} (user_id, created_at) VALUES (:user, :at)"),
            {"user": g.user.id, "at": now().isoformat()},
        )
        db.session.commit()
        return {"ok": True}, 201

    return bp


def build_app(url: str, keys_dir: str) -> Flask:
    """The application under load, with the baseline endpoint added."""
    from app.extensions import csrf, db
    from app.web import access
    from bench.world import make_app

    app = make_app(url, keys_dir)
    blueprint = _bare_blueprint()
    csrf.exempt(blueprint)
    app.register_blueprint(blueprint)
    # Same rule as the real capture endpoint, so the same authentication runs before it.
    access.RULES[BARE_ENDPOINT] = access.RULES["api.create_observations"]
    with app.app_context():
        db.session.execute(
            text(
                f"CREATE TABLE IF NOT EXISTS {BARE_TABLE} (id INTEGER PRIMARY KEY, "
                "user_id INTEGER NOT NULL, created_at TEXT NOT NULL)"
            )
        )
        db.session.commit()
    return app


def forget() -> None:
    """Drop the baseline's access rule (other applications in this process lack it)."""
    from app.web import access

    access.RULES.pop(BARE_ENDPOINT, None)


def _serve(url: str, keys_dir: str, pipe: Connection, stop: Any) -> None:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = build_app(url, keys_dir)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pipe.send(server.server_port)
    stop.wait()
    server.shutdown()
    thread.join(timeout=10)
    from bench.world import dispose

    dispose(app)


class Server:
    """A Jalon server in a child process; use as a context manager, read ``port``."""

    def __init__(self, url: str, keys_dir: str) -> None:
        context = multiprocessing.get_context("spawn")
        self._stop = context.Event()
        parent, child = context.Pipe()
        self._pipe = parent
        self._process = context.Process(
            target=_serve, args=(url, keys_dir, child, self._stop), daemon=True
        )
        self.port = 0

    def __enter__(self) -> Server:
        self._process.start()
        deadline = time.monotonic() + 120
        while not self._pipe.poll(0.2):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError("the bench server did not start (see the error above)")
        self.port = int(self._pipe.recv())
        return self

    def cpu_seconds(self) -> float | None:
        """CPU time the server process has used so far (Linux ``/proc``; else ``None``)."""
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1]
        except OSError:
            return None
        user, system = fields.split()[11:13]
        return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(timeout=30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
