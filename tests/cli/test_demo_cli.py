"""``flask demo seed [--apply]``: a dry run writes nothing; applying twice creates once."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import Base, SigningKey, Structure
from app.services.demo import DEMO_STRUCTURE, PEOPLE
from tests.conftest import dispose, make_app


@pytest.fixture
def cli_app(db_factory, migrated_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An empty migrated database and a keys folder of its own."""
    application = make_app(db_factory.copy(migrated_url), tmp_path / "keys")
    yield application
    dispose(application)


def _seed(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["demo", "seed", *args])
    assert result.exit_code == 0, result.output
    return result


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in Base.metadata.sorted_tables
        }


def _key_files(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["KEYS_DIR"]).rglob("*") if p.is_file())


def test_a_dry_run_says_what_it_would_create_and_writes_nothing(cli_app):
    result = _seed(cli_app)
    assert f"would create: structure {DEMO_STRUCTURE}" in result.stdout
    for person in PEOPLE:
        assert f"would create: user {person.login}\n" in result.stdout
    assert "would generate: signing key" in result.stdout
    assert "Dry run: nothing written. Add --apply to create." in result.stdout
    assert "created:" not in result.stdout and "Demo logins" not in result.stdout
    assert set(_counts(cli_app).values()) == {0}
    assert _key_files(cli_app) == []


def test_applying_twice_creates_everything_once_with_one_private_key_file(cli_app):
    first = _seed(cli_app, "--apply")
    assert f"created: structure {DEMO_STRUCTURE}" in first.stdout
    assert "created: team Espaces verts" in first.stdout
    assert "generated: signing key" in first.stdout
    assert "claire.admin" in first.stdout.split("Demo logins")[1]
    after_first = _counts(cli_app)
    assert after_first["users"] == len(PEOPLE)

    second = _seed(cli_app, "--apply")
    assert "created:" not in second.stdout and "generated:" not in second.stdout
    assert _counts(cli_app) == after_first
    dry = _seed(cli_app)
    assert "would create" not in dry.stdout and "would generate" not in dry.stdout

    with cli_app.app_context():
        structure = db.session.scalars(
            select(Structure).where(Structure.name == DEMO_STRUCTURE)
        ).one()
        [key] = db.session.scalars(
            select(SigningKey).where(SigningKey.structure_id == structure.id)
        ).all()
        private = Path(cli_app.config["KEYS_DIR"]) / key.private_key_file
    assert _key_files(cli_app) == [private]
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in private.read_bytes()

    # A lost private key file is an incident, never silently replaced (BDG-08): the app
    # refuses to start and the seed refuses to go on, both saying which file to restore.
    private.unlink()
    with pytest.raises(RuntimeError, match="introuvable") as refused:
        make_app(cli_app.config["SQLALCHEMY_DATABASE_URI"], Path(cli_app.config["KEYS_DIR"]))
    assert str(private) in str(refused.value) and "flask keys rotate" in str(refused.value)
    again = cli_app.test_cli_runner().invoke(args=["demo", "seed", "--apply"])
    assert again.exit_code != 0 and str(private) in again.output
    assert _key_files(cli_app) == [] and _counts(cli_app) == after_first
