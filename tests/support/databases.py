"""Fresh databases for tests, copied from a migrated (and optionally seeded) template.

SQLite: a template file copied per test. PostgreSQL: ``CREATE DATABASE … TEMPLATE …``.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.support import pg

_counter = itertools.count(1)


class DatabaseFactory:
    """Makes templates once and fresh copies on demand, on SQLite or PostgreSQL."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.server: pg.ThrowAwayPostgres | None = pg.start() if backend == "postgresql" else None
        self.templates: dict[str, str] = {}

    def _new_url(self, name: str) -> str:
        if self.server is None:
            return f"sqlite:///{self.workdir / (name + '.sqlite3')}"
        engine = create_engine(self.server.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.server.url(name)

    def template(self, name: str, build: Callable[[str], None]) -> str:
        """A template database built once by ``build(url)``."""
        if name not in self.templates:
            url = self._new_url(f"tpl_{name}")
            build(url)
            self.templates[name] = url
        return self.templates[name]

    def copy(self, template_url: str) -> str:
        """A fresh database with the template's content."""
        name = f"t{next(_counter)}"
        if self.server is None:
            source = Path(template_url.removeprefix("sqlite:///"))
            target = self.workdir / f"{name}.sqlite3"
            shutil.copyfile(source, target)
            return f"sqlite:///{target}"
        template_name = template_url.split("@/", 1)[1].split("?")[0]
        engine = create_engine(self.server.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"'))
        engine.dispose()
        return self.server.url(name)

    def empty(self) -> str:
        """A fresh, empty database (for migration tests)."""
        return self._new_url(f"e{next(_counter)}")

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
