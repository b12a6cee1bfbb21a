"""``flask badges reissue --worker LOGIN [--apply]``: a dry run first, then the re-issue of
a person's badges that still name their former email or telephone (BDG-04)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from app import openbadges
from app.extensions import db
from app.models import Assertion, OutboundNotification, User
from app.services import identities
from tests.support.routes import changed_tables, snapshot
from tests.support.world import NOW

pytestmark = pytest.mark.db

NEW_EMAIL = "lea.nouvelle@exemple.fr"


def _run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["badges", "reissue", *args])


def _new_email(app: Flask) -> list[str]:
    """Give léa a new address (committed); the public ids of her live badges."""
    with app.app_context():
        lea = db.session.scalars(select(User).where(User.login == "lea")).one()
        identities.change_contact(
            db.session,
            user=lea,
            email=NEW_EMAIL,
            phone=None,
            country="FR",
            actor=None,
            structure=None,
            now=NOW,
        )
        db.session.commit()
        return list(
            db.session.scalars(
                select(Assertion.public_id).where(
                    Assertion.user_id == lea.id, Assertion.revoked_at.is_(None)
                )
            )
        )


def test_nothing_to_do_when_the_badges_name_the_person_as_they_are(world_app: Flask) -> None:
    result = _run(world_app, "--worker", "lea", "--apply")
    assert result.exit_code == 0, result.output
    assert "Every badge of lea names their current identity." in result.output


def test_the_dry_run_lists_what_would_be_re_issued_and_writes_nothing(world_app: Flask) -> None:
    stale = _new_email(world_app)
    state = snapshot(world_app)
    result = _run(world_app, "--worker", "lea")
    assert result.exit_code == 0, result.output
    assert changed_tables(state, snapshot(world_app)) == ()
    listed = [line for line in result.output.splitlines() if line.startswith("would re-issue:")]
    assert sorted(line.split()[2] for line in listed) == sorted(stale)
    assert all("email -> email" in line for line in listed)
    assert "Dry run: 2 badge(s), nothing written." in result.output
    assert NEW_EMAIL not in result.output and "lea.petit" not in result.output


def test_apply_re_issues_once(world_app: Flask) -> None:
    stale = _new_email(world_app)
    result = _run(world_app, "--worker", "lea", "--apply")
    assert result.exit_code == 0, result.output
    assert "re-issued: 2 badge(s)" in result.output
    # Léa is told once, at her new address, that her accepted badge has a new link: with no
    # e-mail provider in the tests, the message only goes to the outbox, and is counted so.
    assert (
        "notified: 0 sent, 1 in the outbox only, 0 failed, 0 without phone or e-mail"
        in result.output
    )
    with world_app.app_context():
        told = db.session.execute(
            select(OutboundNotification.kind, OutboundNotification.sent_at).where(
                OutboundNotification.last_error == "outbox"
            )
        ).all()
        assert [tuple(row) for row in told] == [("badges_renewed", None)]
        for pid in stale:
            old = db.session.scalars(select(Assertion).where(Assertion.public_id == pid)).one()
            assert old.revocation_reason == "identite_mise_a_jour"
            new = db.session.scalars(select(Assertion).where(Assertion.replaces_id == old.id)).one()
            assert f"re-issued: {pid} -> {new.public_id} (email)" in result.output
            assert new.recipient_hash == openbadges.hash_identity(NEW_EMAIL, new.salt)
            assert (new.consent, new.on_profile, new.earner_name) == (
                old.consent,
                old.on_profile,
                old.earner_name,
            )
    state = snapshot(world_app)
    again = _run(world_app, "--worker", "lea", "--apply")
    assert "Every badge of lea names their current identity." in again.output
    assert changed_tables(state, snapshot(world_app)) == ()


def test_an_unknown_person_is_an_error(world_app: Flask) -> None:
    result = _run(world_app, "--worker", "personne.inconnue")
    assert result.exit_code != 0
    assert "no account with the identifier 'personne.inconnue'" in result.output
