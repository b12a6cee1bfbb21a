"""``flask assessments recompute [--structure ID] [--apply]``: reports, and writes only
with ``--apply`` (ASM-02)."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AssessmentState, AuditEvent, BadgeTemplate, Proposal, Structure
from tests.api import member
from tests.support.world import B_NAME

Snapshot = dict[tuple[int, int, int], tuple[str, datetime]]


def _recompute(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["assessments", "recompute", *args])


def _snapshot(app: Flask) -> tuple[Snapshot, int, int]:
    """Every stored status (with when it was computed), the proposals and audit rows."""
    with app.app_context():
        states = {
            (s.worker_id, s.template_id, s.level): (s.status, s.computed_at)
            for s in db.session.scalars(select(AssessmentState))
        }
        proposals = db.session.scalar(select(func.count()).select_from(Proposal)) or 0
        events = db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0
        return states, proposals, events


def _status(app: Flask, login: str, code: str, level: int) -> str | None:
    with app.app_context():
        worker = member(db.session, login)
        return db.session.scalar(
            select(AssessmentState.status)
            .join(BadgeTemplate)
            .where(
                AssessmentState.worker_id == worker.id,
                BadgeTemplate.code == code,
                AssessmentState.level == level,
            )
        )


@pytest.fixture
def stale(world_app: Flask) -> Flask:
    """Two stored statuses that the engine would not give (a stale cache): karim's and
    b.salarie's « S'adapter » at level 3, each observed once."""
    with world_app.app_context():
        for login in ("karim", "b.salarie"):
            worker = member(db.session, login)
            state = db.session.scalars(
                select(AssessmentState)
                .join(BadgeTemplate)
                .where(
                    AssessmentState.worker_id == worker.id,
                    BadgeTemplate.code == "s-adapter",
                    AssessmentState.level == 3,
                )
            ).one()
            assert state.status == "en_cours"
            state.status = "criteres_atteints"
        db.session.commit()
    return world_app


KARIM = "karim s-adapter niveau 3: criteres_atteints → en_cours"
B_SALARIE = "b.salarie s-adapter niveau 3: criteres_atteints → en_cours"


def test_a_dry_run_reports_the_changes_and_writes_nothing(stale):
    before = _snapshot(stale)
    result = _recompute(stale)
    assert result.exit_code == 0, result.output
    assert f"would change: {KARIM}" in result.stdout
    assert f"would change: {B_SALARIE}" in result.stdout
    # Workers never assessed get their first status, « pas commencé ».
    assert "would change: julie travailler-en-equipe niveau 3: — → pas_commence" in result.stdout
    assert "Dry run: nothing written. Add --apply to save." in result.stdout
    assert not [line for line in result.stdout.splitlines() if line.startswith("changed: ")]
    assert _snapshot(stale) == before
    assert _status(stale, "julie", "travailler-en-equipe", 3) is None


def test_apply_writes_the_changes_and_a_second_run_finds_none(stale):
    result = _recompute(stale, "--apply")
    assert result.exit_code == 0, result.output
    assert f"changed: {KARIM}" in result.stdout and f"changed: {B_SALARIE}" in result.stdout
    assert "would change" not in result.stdout and "Dry run" not in result.stdout
    assert _status(stale, "karim", "s-adapter", 3) == "en_cours"
    assert _status(stale, "b.salarie", "s-adapter", 3) == "en_cours"
    assert _status(stale, "julie", "travailler-en-equipe", 3) == "pas_commence"
    after = _snapshot(stale)
    again = _recompute(stale, "--apply")
    assert again.exit_code == 0, again.output
    assert again.stdout.rstrip().endswith("0 change(s).")
    assert "changed: " not in again.stdout
    assert _snapshot(stale)[1:] == after[1:]


def test_structure_restricts_the_recompute_to_its_workers(stale):
    with stale.app_context():
        b = db.session.scalars(select(Structure).where(Structure.name == B_NAME)).one()
        b_id = b.public_id
    dry = _recompute(stale, "--structure", b_id)
    assert dry.exit_code == 0, dry.output
    lines = [line for line in dry.stdout.splitlines() if line.startswith("would change: ")]
    assert lines and all(line.startswith("would change: b.salarie ") for line in lines)
    assert f"would change: {B_SALARIE}" in lines
    assert "1 worker(s)" in dry.stdout
    applied = _recompute(stale, "--structure", b_id, "--apply")
    assert applied.exit_code == 0, applied.output
    assert _status(stale, "b.salarie", "s-adapter", 3) == "en_cours"
    assert _status(stale, "karim", "s-adapter", 3) == "criteres_atteints"  # A untouched


def test_an_unknown_structure_is_an_error(stale):
    before = _snapshot(stale)
    result = _recompute(stale, "--structure", "no-such-structure", "--apply")
    assert result.exit_code == 1
    assert "error: no structure with id no-such-structure." in result.stderr
    assert _snapshot(stale) == before
