"""``flask keys compromised KEY [--apply]``: a leaked private key (BDG-08, BDG-10).

A dry run says what would happen and writes nothing. ``--apply`` marks the key compromised
(it stays published, saying so), moves the issuer to a new key, revokes every live badge
the key signed (« clé compromise ») and re-issues each for the same decision with the new
key. ``flask badges list --json`` shows states and replacements, the demo's included.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import openbadges
from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.extensions import db
from app.models import Assertion, SigningKey, Structure
from app.services import keys
from app.services.demo import DEMO_STRUCTURE
from tests.support.routes import changed_tables, snapshot
from tests.support.world import B_NAME, BASE_URL

pytestmark = pytest.mark.db

COMPROMISED = REVOCATION_WORDING[RevocationReason.KEY_COMPROMISED]
#: What a replacement repeats of the hosted document of the badge it replaces.
SAME = ("badge", "recipient", "issuedOn", "expires", "evidence", "verification")


@pytest.fixture
def app(world_app_with, keys_dir: Path, tmp_path: Path) -> Flask:  # type: ignore[no-untyped-def]
    """The test world on a private copy of its keys: a compromise writes a new key file."""
    copy = tmp_path / "world-keys"
    shutil.copytree(keys_dir, copy)
    return world_app_with(KEYS_DIR=str(copy))


def _cli(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=list(args))


def _files(app: Flask) -> list[Path]:
    return sorted(p for p in Path(app.config["KEYS_DIR"]).rglob("*") if p.is_file())


def _current_key(app: Flask, name: str = DEMO_STRUCTURE) -> tuple[str, str, str]:
    """(issuer id, current key id, its public PEM)."""
    with app.app_context():
        structure = db.session.scalars(select(Structure).where(Structure.name == name)).one()
        key = keys.active_key(db.session, structure)
        assert key is not None
        return structure.public_id, key.public_id, key.public_key_pem


def _signed_by(
    app: Flask, key_id: str, *, revoked: bool = False, public: bool = False
) -> list[str]:
    """Public ids of the live (else the revoked) badges ``key_id`` signed, by row order;
    only those their earner accepted when ``public``."""
    with app.app_context():
        query = (
            select(Assertion.public_id)
            .join(SigningKey, SigningKey.id == Assertion.signing_key_id)
            .where(SigningKey.public_id == key_id)
            .order_by(Assertion.id)
        )
        if public:
            query = query.where(Assertion.consent == "accepted")
        done = Assertion.revoked_at.is_not(None) if revoked else Assertion.revoked_at.is_(None)
        return list(db.session.scalars(query.where(done)))


def _list(app: Flask) -> dict[str, dict[str, Any]]:
    result = _cli(app, "badges", "list", "--json")
    assert result.exit_code == 0, result.output
    return {row["id"]: row for row in json.loads(result.stdout)}


def test_a_dry_run_says_what_would_happen_and_writes_nothing(app):
    _, key_id, _ = _current_key(app)
    affected = _signed_by(app, key_id)
    # Pending and declined badges too; léa's withdrawn « Anticiper » is not among them.
    assert len(affected) == 6
    before, files = snapshot(app), _files(app)

    result = _cli(app, "keys", "compromised", key_id)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"would mark compromised: key {key_id} of {DEMO_STRUCTURE}",
        "would sign from now on with: a new key",
        *[f"would revoke (cle_compromise) and re-issue: badge {b}" for b in affected],
        "Dry run: 6 badge(s), nothing written. Add --apply to act.",
    ]
    assert changed_tables(before, snapshot(app)) == () and _files(app) == files


def test_a_dry_run_on_a_retired_key_keeps_the_current_one(app):
    issuer_id, old_id, _ = _current_key(app)
    rotated = _cli(app, "keys", "rotate", "--issuer", issuer_id, "--apply")
    assert rotated.exit_code == 0, rotated.output
    result = _cli(app, "keys", "compromised", old_id)
    assert result.exit_code == 0, result.output
    assert "would sign from now on with: keep the current key" in result.stdout.splitlines()


@pytest.mark.parametrize("apply", [False, True])
def test_an_unknown_key_is_an_error(app, apply):
    before, files = snapshot(app), _files(app)
    result = _cli(app, "keys", "compromised", "nobody-has-this-key-1", *(["--apply"] * apply))
    assert result.exit_code != 0
    assert "No key with id nobody-has-this-key-1." in result.output
    assert "Traceback" not in result.output
    assert changed_tables(before, snapshot(app)) == () and _files(app) == files


def test_apply_revokes_and_re_issues_every_live_badge_with_a_new_key(app):
    issuer_id, old_id, old_pem = _current_key(app)
    affected = _signed_by(app, old_id)
    public = _signed_by(app, old_id, public=True)
    assert 0 < len(public) < len(affected)  # the demo's pending and declined badges
    withdrawn_before = _signed_by(app, old_id, revoked=True)
    client = app.test_client()
    hosted = {b: client.get(f"/badges/{b}.json").get_json(force=True) for b in public}
    jws = {b: client.get(f"/badges/{b}.jws").get_data() for b in public}
    states = {b: row["state"] for b, row in _list(app).items()}
    b_issuer, b_key, _ = _current_key(app, B_NAME)
    b_badges = _signed_by(app, b_key)
    files = _files(app)

    result = _cli(app, "keys", "compromised", old_id, "--apply")

    assert result.exit_code == 0, result.output
    _, new_id, new_pem = _current_key(app)
    assert new_id != old_id
    lines = result.stdout.splitlines()
    assert lines[0] == f"compromised: key {old_id}; now signing with {new_id}"
    pairs = [line.removeprefix("revoked ").split(" -> re-issued ") for line in lines[1:]]
    assert [old for old, _ in pairs] == affected and all(len(p) == 2 for p in pairs)
    replaced = dict(pairs)

    # The new private key, next to the others, readable by its owner only.
    (new_file,) = [p for p in _files(app) if p not in files]
    assert new_file == Path(app.config["KEYS_DIR"]) / issuer_id / f"{new_id}.pem"
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600

    # Keys: the leaked one stays published, marked; the issuer names the new one only.
    leaked = client.get(f"/cles/{old_id}")
    assert leaked.status_code == 200
    leaked_document = leaked.get_json(force=True)
    assert (leaked_document["revoked"], leaked_document["revocationReason"]) == (True, COMPROMISED)
    assert leaked_document["publicKeyPem"] == old_pem
    assert leaked_document["owner"] == f"{BASE_URL}/emetteurs/{issuer_id}"
    assert "revoked" not in client.get(f"/cles/{new_id}").get_json(force=True)
    issuer = client.get(f"/emetteurs/{issuer_id}.json").get_json(force=True)
    assert issuer["publicKey"] == f"{BASE_URL}/cles/{new_id}"
    listing = _cli(app, "keys", "list").stdout
    assert f"{issuer_id}\t{DEMO_STRUCTURE}\t{old_id}\tcompromised" in listing
    assert f"{issuer_id}\t{DEMO_STRUCTURE}\t{new_id}\tcurrent" in listing

    # A badge its earner has not accepted stays unpublished, and so does its replacement.
    for old, new in replaced.items():
        if old not in public:
            assert client.get(f"/badges/{old}.json").status_code == 404
            assert client.get(f"/badges/{new}.json").status_code == 404
    # Each public badge: revoked (same JWS), and its replacement signed by the new key.
    for old, new in replaced.items():
        if old not in public:
            continue
        old_document = client.get(f"/badges/{old}.json").get_json(force=True)
        assert old_document == hosted[old] | {"revoked": True, "revocationReason": COMPROMISED}
        assert client.get(f"/badges/{old}.jws").get_data() == jws[old]
        new_document = client.get(f"/badges/{new}.json").get_json(force=True)
        assert new_document["id"] == f"{BASE_URL}/badges/{new}" and "revoked" not in new_document
        assert {k: new_document.get(k) for k in SAME} == {k: hosted[old].get(k) for k in SAME}
        new_jws = client.get(f"/badges/{new}.jws").get_data(as_text=True)
        payload = openbadges.verify_jws(new_jws, new_pem)
        assert payload["verification"]["creator"] == f"{BASE_URL}/cles/{new_id}"
        assert {k: v for k, v in payload.items() if k != "verification"} == {
            k: v for k, v in new_document.items() if k != "verification"
        }
        with pytest.raises(openbadges.SignatureError):
            openbadges.verify_jws(new_jws, old_pem)
    with app.app_context():
        rows = {
            a.public_id: a
            for a in db.session.scalars(
                select(Assertion).where(Assertion.public_id.in_([*replaced, *replaced.values()]))
            )
        }
        for old, new in replaced.items():
            assert rows[new].replaces_id == rows[old].id
            carried = ("proposal_id", "recipient_hash", "salt", "issued_on", "expires_at")
            assert [getattr(rows[new], c) for c in carried] == [
                getattr(rows[old], c) for c in carried
            ]

    # The revocation list names them; the replacements and the badge withdrawn earlier
    # (which keeps its reason and gets no replacement) are as they were.
    revoked = client.get(f"/emetteurs/{issuer_id}/revocations").get_json(force=True)
    entries = {e["id"]: e["revocationReason"] for e in revoked["revokedAssertions"]}
    for old, new in replaced.items():
        if old in public:
            assert entries[f"{BASE_URL}/badges/{old}"] == COMPROMISED
        else:  # never published: nothing to withdraw publicly
            assert f"{BASE_URL}/badges/{old}" not in entries
        assert f"{BASE_URL}/badges/{new}" not in entries
    (earlier,) = withdrawn_before
    assert (
        entries[f"{BASE_URL}/badges/{earlier}"]
        == (REVOCATION_WORDING[RevocationReason.ISSUING_ERROR])
    )
    assert earlier not in replaced

    # ``badges list``: states and replacements.
    after = _list(app)
    assert len(after) == len(states) + len(affected)
    for old, new in replaced.items():
        assert (after[old]["state"], after[old]["revocation_reason"]) == (
            "revoked",
            "cle_compromise",
        )
        assert (after[new]["state"], after[new]["replaces"]) == (states[old], old)
        assert after[new]["revocation_reason"] is None
    assert {states[old] for old in replaced} == {"valid", "expired", "pending", "declined"}
    assert after[earlier]["revocation_reason"] == "erreur_emission"
    # Another issuer: same key, same live badges.
    assert _current_key(app, B_NAME)[:2] == (b_issuer, b_key)
    assert _signed_by(app, b_key) == b_badges
    assert all(after[b]["state"] == "valid" for b in b_badges)

    # A second declaration is refused, with or without --apply, and writes nothing.
    before, files = snapshot(app), _files(app)
    for args in ((), ("--apply",)):
        again = _cli(app, "keys", "compromised", old_id, *args)
        assert again.exit_code != 0 and "already marked compromised" in again.output
    assert changed_tables(before, snapshot(app)) == () and _files(app) == files


# -- The demo --------------------------------------------------------------------------------


def test_badges_list_shows_the_demo_s_replaced_and_withdrawn_badges(world_app):
    rows = _list(world_app)
    (replacement,) = [r for r in rows.values() if r["replaces"]]
    original = rows[replacement["replaces"]]
    assert (original["state"], original["revocation_reason"]) == ("revoked", "cle_compromise")
    assert (replacement["state"], replacement["revocation_reason"]) == ("expired", None)
    assert original["name"] == replacement["name"] == "Soigner la qualité du travail — niveau 3"
    for field in ("issued_on", "expires", "recipient_type"):
        assert original[field] == replacement[field]
    (withdrawn,) = [
        r for r in rows.values() if r["revocation_reason"] not in (None, "cle_compromise")
    ]
    assert (withdrawn["state"], withdrawn["revocation_reason"]) == ("revoked", "erreur_emission")
    assert withdrawn["name"].startswith("Anticiper") and withdrawn["recipient_type"] == "email"
    assert sorted(r["state"] for r in rows.values()) == [
        "declined",
        "expired",
        "pending",
        "revoked",
        "revoked",
        "valid",
        "valid",
        "valid",
        "valid",
    ]
    # The compromised demo key, kept published and marked, cannot be declared again.
    with world_app.app_context():
        (first_key,) = db.session.scalars(
            select(SigningKey.public_id).where(SigningKey.compromised_at.is_not(None))
        ).all()
    published = world_app.test_client().get(f"/cles/{first_key}")
    assert published.status_code == 200
    assert published.get_json(force=True)["revocationReason"] == COMPROMISED
    refused = _cli(world_app, "keys", "compromised", first_key)
    assert refused.exit_code != 0 and f"Key {first_key} is already marked compromised." in (
        refused.output
    )
