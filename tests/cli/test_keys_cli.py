"""``flask keys generate|rotate [--apply]``: one usable key pair per active structure; rotation
keeps old keys published, and is the way back after a lost private key (BDG-08)."""

from __future__ import annotations

import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from flask import Flask
from sqlalchemy import func, select

from app import openbadges
from app.extensions import db
from app.models import Assertion, AuditEvent, SigningKey, Structure
from app.models.base import utcnow
from app.services import consent, keys, structures
from app.services.demo import DEMO_STRUCTURE
from tests.conftest import dispose, make_app
from tests.services.test_badges import approved_by_hand
from tests.support.world import BASE_URL, NOW


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


# -- Rotation and a lost private key (BDG-08), on the test world ------------------------------


@pytest.fixture
def world_keys(keys_dir: Path, tmp_path: Path) -> Path:
    """A copy of the world's keys: these tests write and delete key files."""
    copy = tmp_path / "world-keys"
    shutil.copytree(keys_dir, copy)
    return copy


@pytest.fixture
def rotating_app(world_app_with, world_keys: Path) -> Flask:
    return world_app_with(KEYS_DIR=str(world_keys))


def _demo_issuer(app: Flask) -> tuple[str, str, str]:
    """(issuer id, current key id, its private key path) of the demo structure."""
    with app.app_context():
        structure = db.session.scalars(
            select(Structure).where(Structure.name == DEMO_STRUCTURE)
        ).one()
        key = keys.active_key(db.session, structure)
        assert key is not None
        path = Path(app.config["KEYS_DIR"]) / key.private_key_file
        return structure.public_id, key.public_id, str(path)


def _issue_one(app: Flask, code: str) -> tuple[str, str]:
    """Approve a badge for julie by hand and issue it with the CLI: (assertion id, JWS)."""
    with app.app_context():
        proposal = approved_by_hand(db.session, "julie", code)
        db.session.commit()
        proposal_id = proposal.id
    result = app.test_cli_runner().invoke(args=["badges", "issue", "--apply"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assertion = db.session.scalars(
            select(Assertion).where(Assertion.proposal_id == proposal_id)
        ).one()
        consent.accept(db.session, assertion, actor=assertion.user, show=True, now=utcnow())
        db.session.commit()
        return assertion.public_id, assertion.jws


def test_rotate_dry_run_names_the_current_key_and_writes_nothing(rotating_app):
    issuer_id, key_id, _ = _demo_issuer(rotating_app)
    keys_before, files_before = _keys(rotating_app), _files(rotating_app)
    result = rotating_app.test_cli_runner().invoke(args=["keys", "rotate", "--issuer", issuer_id])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"would rotate: {DEMO_STRUCTURE} (current key {key_id}) -> a new key",
        "Dry run: nothing written. Add --apply to rotate.",
    ]
    assert _keys(rotating_app) == keys_before and _files(rotating_app) == files_before


def test_rotate_refuses_an_unknown_issuer(rotating_app):
    files_before = _files(rotating_app)
    result = rotating_app.test_cli_runner().invoke(
        args=["keys", "rotate", "--issuer", "nobody-has-this-id-123", "--apply"]
    )
    assert result.exit_code != 0 and "No issuer with id nobody-has-this-id-123" in result.output
    assert _files(rotating_app) == files_before


def test_after_rotation_new_badges_use_the_new_key_and_old_ones_still_verify(rotating_app):
    issuer_id, old_id, old_path = _demo_issuer(rotating_app)
    before_id, before_jws = _issue_one(rotating_app, "travailler-en-equipe")
    files_before = _files(rotating_app)

    result = rotating_app.test_cli_runner().invoke(
        args=["keys", "rotate", "--issuer", issuer_id, "--apply"]
    )
    assert result.exit_code == 0, result.output
    _, new_id, new_path = _demo_issuer(rotating_app)
    assert new_id != old_id
    assert result.stdout.strip() == (
        f"rotated: {DEMO_STRUCTURE}: retired {old_id}, new key {new_id}"
    )
    assert _files(rotating_app) == sorted([*files_before, Path(new_path)])
    assert Path(old_path).is_file()  # the old private key is kept, never overwritten
    assert stat.S_IMODE(Path(new_path).stat().st_mode) == 0o600
    listing = rotating_app.test_cli_runner().invoke(args=["keys", "list"]).stdout
    assert f"{issuer_id}\t{DEMO_STRUCTURE}\t{old_id}\tretired" in listing
    assert f"{issuer_id}\t{DEMO_STRUCTURE}\t{new_id}\tcurrent" in listing
    with rotating_app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "key.rotated", AuditEvent.target.in_([old_id, new_id])
            )
        ).all()
        assert [(e.target, e.details) for e in events][-1:] == [(new_id, {"previous": old_id})]
        assert [e.target for e in events].count(new_id) == 1

    client = rotating_app.test_client()
    issuer = client.get(f"/emetteurs/{issuer_id}.json").get_json(force=True)
    assert issuer["publicKey"] == f"{BASE_URL}/cles/{new_id}"  # one value: the current key
    old_key = client.get(f"/cles/{old_id}")  # still published, still owned by the issuer
    assert old_key.status_code == 200
    assert old_key.get_json(force=True)["owner"] == issuer["id"]
    new_key = client.get(f"/cles/{new_id}").get_json(force=True)
    assert new_key["owner"] == issuer["id"]

    # A badge signed before the rotation still verifies with the key it names.
    _, payload = openbadges.parse_jws(before_jws)
    assert payload["verification"]["creator"] == f"{BASE_URL}/cles/{old_id}"
    openbadges.verify_jws(before_jws, old_key.get_json(force=True)["publicKeyPem"])
    assert client.get(f"/badges/{before_id}.jws").get_data(as_text=True) == before_jws

    # A badge issued after it is signed by the new key only.
    after_id, after_jws = _issue_one(rotating_app, "organiser")
    _, payload = openbadges.parse_jws(after_jws)
    assert payload["verification"]["creator"] == f"{BASE_URL}/cles/{new_id}"
    openbadges.verify_jws(after_jws, new_key["publicKeyPem"])
    with pytest.raises(openbadges.SignatureError):
        openbadges.verify_jws(after_jws, old_key.get_json(force=True)["publicKeyPem"])
    assert client.get(f"/badges/{after_id}.json").status_code == 200


def test_a_lost_key_blocks_start_up_until_allowed_and_rotation_restores_issuing(
    rotating_app, monkeypatch
):
    issuer_id, old_id, old_path = _demo_issuer(rotating_app)
    url = rotating_app.config["SQLALCHEMY_DATABASE_URI"]
    world_keys = Path(rotating_app.config["KEYS_DIR"])
    with rotating_app.app_context():
        (badge_id,) = db.session.scalars(
            select(Assertion.public_id)
            .join(SigningKey, SigningKey.id == Assertion.signing_key_id)
            .where(
                SigningKey.public_id == old_id,
                Assertion.recipient_type == "email",
                Assertion.revoked_at.is_(None),
                Assertion.consent == "accepted",
            )
        ).all()
    Path(old_path).unlink()

    with pytest.raises(RuntimeError, match="introuvable") as refused:
        make_app(url, world_keys)
    assert old_path in str(refused.value)

    monkeypatch.setenv("JALON_ALLOW_MISSING_KEYS", "1")
    allowed = make_app(url, world_keys)
    try:
        assert allowed.config["ALLOW_MISSING_KEYS"] == 1
        # Badges already issued stay verifiable meanwhile.
        assert allowed.test_client().get(f"/badges/{badge_id}.json").status_code == 200
        # Issuing is refused, naming the file, and writes nothing.
        with allowed.app_context():
            approved_by_hand(db.session, "julie")
            db.session.commit()
            before = db.session.scalar(select(func.count()).select_from(Assertion))
        refused_issue = allowed.test_cli_runner().invoke(args=["badges", "issue", "--apply"])
        assert refused_issue.exit_code != 0 and old_path in refused_issue.output
        assert "nothing issued" in refused_issue.output and "Traceback" not in refused_issue.output
        with allowed.app_context():
            assert db.session.scalar(select(func.count()).select_from(Assertion)) == before
        # Rotation makes a new current key.
        rotated = allowed.test_cli_runner().invoke(
            args=["keys", "rotate", "--issuer", issuer_id, "--apply"]
        )
        assert rotated.exit_code == 0, rotated.output
        assert f"retired {old_id}" in rotated.stdout
    finally:
        dispose(allowed)

    monkeypatch.delenv("JALON_ALLOW_MISSING_KEYS")
    restored = make_app(url, world_keys)  # starts: no current key file is missing
    try:
        result = restored.test_cli_runner().invoke(args=["badges", "issue", "--apply"])
        assert result.exit_code == 0, result.output
        assert "issued: 1 badge(s)" in result.stdout
        with restored.app_context():
            structure = db.session.scalars(
                select(Structure).where(Structure.public_id == issuer_id)
            ).one()
            new_key = keys.active_key(db.session, structure)
            assert new_key.public_id != old_id
            latest = db.session.scalars(select(Assertion).order_by(Assertion.id.desc())).first()
            assert latest.signing_key_id == new_key.id
            openbadges.verify_jws(latest.jws, new_key.public_key_pem)
            new_id = new_key.public_id
        client = restored.test_client()
        issuer = client.get(f"/emetteurs/{issuer_id}.json").get_json(force=True)
        assert issuer["publicKey"] == f"{BASE_URL}/cles/{new_id}"
        assert client.get(f"/cles/{old_id}").status_code == 200  # the lost key stays published
    finally:
        dispose(restored)
