"""``flask badges list [--json]`` and ``flask badges issue [--apply]`` on the test world."""

from __future__ import annotations

import json

from flask import Flask
from sqlalchemy import func, select

from app import openbadges
from app.extensions import db
from app.models import Assertion, AuditEvent, BadgeClass, Proposal
from app.services import badges, keys
from tests.services.test_badges import OPAQUE, approved_by_hand
from tests.support.world import BASE_URL, NOW

NOTHING_TO_ISSUE = "Every approved decision has its badge."


def run(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            m.__tablename__: db.session.scalar(select(func.count()).select_from(m)) or 0
            for m in (Assertion, AuditEvent, BadgeClass)
        }


def test_list_json_gives_every_badge_with_its_addresses(world_app):
    rows = json.loads(run(world_app, "badges", "list", "--json").stdout)
    with world_app.app_context():
        stored = {a.public_id: a for a in db.session.scalars(select(Assertion))}
        expected = {pid: (a.recipient_type, a.jws, a.status(NOW)) for pid, a in stored.items()}
    assert {r["id"]: (r["recipient_type"], r["jws"], r["state"]) for r in rows} == expected
    assert {(r["recipient_type"], r["state"]) for r in rows} >= {
        ("email", "valid"),
        ("telephone", "valid"),
        ("telephone", "expired"),
        ("url", "valid"),
        ("telephone", "pending"),  # the demo: karim has not answered for « Communiquer »
        ("email", "declined"),  # léa declined « S'adapter »
    }
    client = world_app.test_client()
    for row in rows:
        hosted = f"{BASE_URL}/badges/{row['id']}"
        assert OPAQUE.fullmatch(row["id"])
        assert row["hosted_url"] == hosted
        assert (row["png_url"], row["svg_url"]) == (f"{hosted}/badge.png", f"{hosted}/badge.svg")
        assert row["signed_png_url"] == f"{hosted}/badge.png?variante=signee"
        assert openbadges.parse_jws(row["jws"])[1]["id"] == hosted
        if row["consent"] != "accepted":  # not published: its address answers 404
            assert client.get(f"/badges/{row['id']}.json").status_code == 404
            continue
        assert (
            row["issued_on"]
            == client.get(f"/badges/{row['id']}.json").get_json(force=True)["issuedOn"]
        )
        if row["state"] == "expired":
            assert row["expires"] is not None
            assert row["expires"] < NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
        for url in (row["png_url"], row["signed_svg_url"]):
            published = row["consent"] == "accepted"
            assert client.get(url.removeprefix(BASE_URL)).status_code == (200 if published else 404)


def test_list_prints_one_line_per_badge(world_app):
    lines = run(world_app, "badges", "list").stdout.strip().splitlines()
    assert len(lines) == counts(world_app)["assertions"]
    assert any(
        line.split("\t")[1:] == ["expired", "telephone", "Soigner la qualité du travail — niveau 3"]
        for line in lines
    ), lines


def test_issue_says_what_it_would_issue_then_issues_it_once(world_app):
    assert run(world_app, "badges", "issue").stdout.strip() == NOTHING_TO_ISSUE
    with world_app.app_context():
        proposal = approved_by_hand(db.session, "julie")
        db.session.commit()
        decision = proposal.public_id
    before = counts(world_app)

    dry = run(world_app, "badges", "issue")
    assert dry.stdout.splitlines() == [
        f"would issue: Travailler en équipe — niveau 3 (Les Jardins du Val, decision {decision})",
        "Dry run: 1 badge(s), nothing written. Add --apply to issue.",
    ]
    assert counts(world_app) == before

    applied = run(world_app, "badges", "issue", "--apply")
    assert "issued: 1 badge(s)" in applied.stdout
    with world_app.app_context():
        proposal = db.session.scalars(select(Proposal).where(Proposal.public_id == decision)).one()
        assertion = badges.assertion_for(db.session, proposal)
        assert assertion is not None
        key = keys.active_key(db.session, proposal.worker.structure)
        assert assertion.signing_key_id == key.id
        openbadges.verify_jws(assertion.jws, key.public_key_pem)
        assert db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == assertion.public_id)
        ).all() == ["badge.issued"]
    after = counts(world_app)
    assert after["assertions"] == before["assertions"] + 1
    assert after["audit_events"] >= before["audit_events"] + 1

    assert run(world_app, "badges", "issue").stdout.strip() == NOTHING_TO_ISSUE
    assert run(world_app, "badges", "issue", "--apply").stdout.strip() == NOTHING_TO_ISSUE
    assert counts(world_app) == after
