"""``flask keys generate [--apply]``: one usable key pair per active structure."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from sqlalchemy import select

from app.extensions import db
from app.models import SigningKey, Structure
from app.services import structures
from tests.conftest import dispose, make_app
from tests.support.world import NOW


@pytest.fixture
def cli_app(db_factory, migrated_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An empty migrated database with two structures, one of them deactivated."""
    application = make_app(db_factory.copy(migrated_url), tmp_path / "keys")
    with application.app_context():
        structures.create_structure(db.session, actor=None, name="Régie de quartier", now=NOW)
        closed = structures.create_structure(db.session, actor=None, name="Ancienne EI", now=NOW)
        closed.deactivated_at = NOW
        db.session.commit()
    yield application
    dispose(application)


def _generate(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["keys", "generate", *args])
    assert result.exit_code == 0, result.output
    return result


def _keys(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [
            (key.structure.name, key.private_key_file, key.public_key_pem)
            for key in db.session.scalars(select(SigningKey).order_by(SigningKey.id))
        ]


def _files(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["KEYS_DIR"]).rglob("*") if p.is_file())


def test_a_dry_run_names_the_structures_without_a_key_and_writes_nothing(cli_app):
    result = _generate(cli_app)
    assert "would generate: key for Régie de quartier" in result.stdout
    assert "Ancienne EI" not in result.stdout
    assert "Dry run: nothing written. Add --apply to generate." in result.stdout
    assert _keys(cli_app) == [] and _files(cli_app) == []


def test_apply_writes_a_private_key_matching_the_published_public_key(cli_app):
    result = _generate(cli_app, "--apply")
    assert "generate: key for Régie de quartier" in result.stdout
    [(owner, relative, public_pem)] = _keys(cli_app)
    assert owner == "Régie de quartier"
    private_file = Path(cli_app.config["KEYS_DIR"]) / relative
    assert _files(cli_app) == [private_file]
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
    private = serialization.load_pem_private_key(private_file.read_bytes(), password=None)
    derived = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert derived.decode().strip() == public_pem.strip()
    with cli_app.app_context():
        structure = db.session.scalars(
            select(Structure).where(Structure.name == "Régie de quartier")
        ).one()
        assert relative.startswith(structure.public_id + "/")

    again = _generate(cli_app, "--apply")
    assert again.stdout.strip() == "Every structure has a signing key."
    assert len(_keys(cli_app)) == 1 and len(_files(cli_app)) == 1
