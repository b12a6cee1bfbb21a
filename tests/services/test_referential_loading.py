"""Loading referential files: all or nothing, versions immutable (REF-01, REF-04)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli.referentials import read_files
from app.domain.referentials import InvalidReferential, _build_referential
from app.extensions import db
from app.models import (
    AuditEvent,
    Competence,
    CompetenceGroup,
    Indicator,
    Referential,
    SituationTemplate,
)
from app.queries import referentials as queries
from app.services import referentials as service
from tests.support.world import NOW

ROOT = Path(__file__).resolve().parents[2]
REFERENTIALS = ROOT / "referentials"
DATA = ROOT / "tests" / "data" / "referentials"
V1_BUNK = DATA / "v1" / "bunk.yaml"  # as shipped before the worker statements
NEXT_BUNK = DATA / "v3" / "bunk.yaml"  # the repository's bunk.yaml as a later version


def _version(path: Path) -> int:
    version: int = yaml.safe_load(path.read_text(encoding="utf-8"))["version"]
    return version


BUNK_VERSION = _version(REFERENTIALS / "bunk.yaml")
NEXT_VERSION = _version(NEXT_BUNK)
OLD_WORDING = "Change de méthode quand la consigne ou le chantier change"
NEW_WORDING = "Change sa façon de faire quand la consigne ou le chantier change"

# REQUIREMENTS §3.1: the French names, exactly, in the guide's order.
BUNK = {
    "methodologiques": (
        "Compétences méthodologiques",
        [
            "s'adapter",
            "être autonome",
            "planifier",
            "anticiper",
            "analyser",
            "résoudre des problèmes",
            "jugement critique",
            "qualité du travail",
        ],
    ),
    "sociales": (
        "Compétences sociales",
        ["communiquer", "travailler en équipe", "s'intégrer", "confidentialité"],
    ),
    "contributionnelles": (
        "Compétences contributionnelles",
        [
            "prise en compte de ses capacités d'intervention",
            "prioriser",
            "organiser",
            "conscience professionnelle",
        ],
    ),
}
TABLES = (Referential, CompetenceGroup, Competence, Indicator, SituationTemplate, AuditEvent)


def _counts(session: Session) -> dict[str, int]:
    return {t.__tablename__: session.scalar(select(func.count()).select_from(t)) for t in TABLES}


def _load(session: Session, files: list[tuple[str, str]]) -> service.LoadPlan:
    plan = service.plan_load(session, files)
    service.apply_plan(session, plan, now=NOW, actor=None)
    return plan


def _indicator_text(ref: Referential, competence: str, indicator: str) -> str:
    comp = next(c for c in ref.competences if c.code == competence)
    return next(i for i in comp.indicators if i.code == indicator).text["fr"]


def test_a_fresh_load_gives_the_bunk_grid_with_its_exact_french_names(app):
    with app.app_context():
        session = db.session
        plan = _load(session, read_files(REFERENTIALS))
        assert len(plan.new) == len(list(REFERENTIALS.rglob("*.yaml"))) and not plan.unchanged
        bunk = queries.referential_version(session, "bunk", BUNK_VERSION)
        assert bunk is not None and bunk.kind == "soft_skills" and bunk.is_current
        assert [g.code for g in bunk.groups] == list(BUNK)
        for group in bunk.groups:
            name, competences = BUNK[group.code]
            assert group.name["fr"] == name
            assert [c.name["fr"] for c in group.competences] == competences
            assert all(c.indicators for c in group.competences)
        assert [len(g.competences) for g in bunk.groups] == [8, 4, 4]
        assert len(bunk.competences) == 16
        assert _indicator_text(bunk, "s-adapter", "change-de-methode") == OLD_WORDING
        statements = {c.code: c.statement for c in bunk.competences}
        assert statements["conscience-professionnelle"] == {
            "fr": "Je suis à l'heure et je respecte les pauses",
            "en": "I am on time and I keep to break times",
            "it": "Sono puntuale e rispetto le pause",
        }
        assert all(s["fr"].startswith(("Je ", "J'")) for s in statements.values())
        pack = queries.referential_version(session, "engagement-au-travail", BUNK_VERSION)
        assert pack is not None and all(c.statement["fr"] for c in pack.competences)
        scale = queries.current_scale(session)
        assert scale is not None and scale.payload["usable_min"] == 3
        assert [level["level"] for level in scale.payload["levels"]] == [1, 2, 3, 4, 5]
        loaded = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "referential.loaded")
        )
        assert len(loaded.all()) == len(plan.new)


def test_loading_the_same_files_twice_changes_nothing(db_session):
    """The world already holds every referential of the repository."""
    before = _counts(db_session)
    plan = _load(db_session, read_files(REFERENTIALS))
    assert not plan.changes and plan.new == []
    assert len(plan.unchanged) == len(list(REFERENTIALS.rglob("*.yaml")))
    assert _counts(db_session) == before


def test_yaml_layout_and_comments_do_not_count_as_a_change(db_session):
    text = (REFERENTIALS / "bunk.yaml").read_text(encoding="utf-8")
    line = f"version: {BUNK_VERSION}\n"
    reformatted = "# un commentaire de plus\n" + text.replace(line, line.replace(" ", "   "))
    assert line in text and reformatted.count("version:   ") == 1
    plan = service.plan_load(db_session, [("bunk-reformate.yaml", reformatted)])
    assert not plan.changes and [s.code for s in plan.unchanged] == ["bunk"]


def test_a_new_version_is_loaded_beside_the_old_one_which_keeps_its_wording(db_session):
    old = queries.referential_version(db_session, "bunk", BUNK_VERSION)
    old_ids = {c.code: c.id for c in old.competences}
    old_indicator_ids = sorted(i.id for c in old.competences for i in c.indicators)
    later = NOW + timedelta(days=30)
    plan = service.plan_load(db_session, read_files(NEXT_BUNK))
    assert NEXT_VERSION > BUNK_VERSION
    assert [(s.code, s.version) for s in plan.new] == [("bunk", NEXT_VERSION)]
    service.apply_plan(db_session, plan, now=later, actor=None)
    db_session.expire_all()

    old = queries.referential_version(db_session, "bunk", BUNK_VERSION)
    new = queries.referential_version(db_session, "bunk", NEXT_VERSION)
    assert old.superseded_at == later and not old.is_current
    assert new.is_current and new.id != old.id and new.source == str(NEXT_BUNK)
    assert _indicator_text(old, "s-adapter", "change-de-methode") == OLD_WORDING
    assert _indicator_text(new, "s-adapter", "change-de-methode") == NEW_WORDING
    assert {c.code: c.id for c in old.competences} == old_ids
    assert sorted(i.id for c in old.competences for i in c.indicators) == old_indicator_ids
    assert set(old_ids) == {c.code for c in new.competences}
    assert not set(old_ids.values()) & {c.id for c in new.competences}
    assert [r.version for r in queries.versions_of(db_session, "bunk")] == [
        NEXT_VERSION,
        BUNK_VERSION,
    ]
    current_bunk = [r for r in queries.current_grids(db_session) if r.code == "bunk"]
    assert [r.version for r in current_bunk] == [NEXT_VERSION]
    # Loading the repository again now finds its version unchanged and adds nothing.
    assert not service.plan_load(db_session, read_files(REFERENTIALS)).changes


def test_an_older_version_loaded_after_a_newer_one_is_born_superseded(app):
    with app.app_context():
        session = db.session
        _load(session, read_files(NEXT_BUNK))
        _load(session, read_files(REFERENTIALS / "bunk.yaml"))
        versions = {r.version: r for r in queries.versions_of(session, "bunk")}
        assert versions[NEXT_VERSION].is_current and not versions[BUNK_VERSION].is_current


def test_changed_content_under_a_loaded_version_is_refused_and_writes_nothing(db_session):
    before = _counts(db_session)
    text = (REFERENTIALS / "bunk.yaml").read_text(encoding="utf-8")
    tampered = text.replace(OLD_WORDING, NEW_WORDING)
    assert tampered != text
    files = [*read_files(NEXT_BUNK), ("referentials/bunk.yaml", tampered)]
    with pytest.raises(service.ReferentialConflict) as raised:
        _load(db_session, files)
    assert "bunk" in raised.value.message and "version" in raised.value.message
    assert _counts(db_session) == before
    assert (
        _indicator_text(
            queries.referential_version(db_session, "bunk", BUNK_VERSION),
            "s-adapter",
            "change-de-methode",
        )
        == OLD_WORDING
    )


def test_the_same_version_twice_in_one_batch_is_refused(db_session):
    before = _counts(db_session)
    files = read_files(NEXT_BUNK) * 2
    with pytest.raises(service.ReferentialConflict, match="deux fois"):
        _load(db_session, files)
    assert _counts(db_session) == before


def test_one_broken_file_among_good_ones_loads_nothing(app):
    broken = DATA / "broken" / "missing-fr.yaml"
    files = read_files(REFERENTIALS) + read_files(broken)
    with app.app_context():
        before = _counts(db.session)
        assert set(before.values()) == {0}
        with pytest.raises(InvalidReferential) as raised:
            _load(db.session, files)
        db.session.rollback()
        assert _counts(db.session) == before
    [issue] = raised.value.issues
    assert (issue.source, issue.line, issue.field) == (str(broken), 9, "competences[0].name.fr")


def test_every_issue_of_every_broken_file_is_reported_at_once(db_session):
    broken = sorted((DATA / "broken").glob("*.yaml"))
    before = _counts(db_session)
    with pytest.raises(InvalidReferential) as raised:
        _load(db_session, read_files(NEXT_BUNK) + read_files(DATA / "broken"))
    assert {issue.source for issue in raised.value.issues} == {str(f) for f in broken}
    assert all(issue.line >= 1 and issue.field and issue.message for issue in raised.value.issues)
    assert _counts(db_session) == before


def _load_as_the_first_release(session: Session, path: Path) -> None:
    """Load a file as the first release did, before statements were required.

    Its parser no longer accepts a grid without statements, so the spec is built from the
    file's data as it stood; the content hash is the one that release computed.
    """
    spec = _build_referential(yaml.safe_load(path.read_text(encoding="utf-8")))
    plan = service.LoadPlan(new=[spec], sources={spec.code: str(path)})
    service.apply_plan(session, plan, now=NOW, actor=None)


def test_the_version_with_statements_loads_over_v1_which_keeps_its_rows_and_wording(app):
    with app.app_context():
        session = db.session
        _load_as_the_first_release(session, V1_BUNK)
        old = queries.referential_version(session, "bunk", 1)
        old_ids = {c.code: c.id for c in old.competences}
        old_names = {c.code: dict(c.name) for c in old.competences}
        old_indicators = {i.id: dict(i.text) for c in old.competences for i in c.indicators}
        assert all(c.statement == {} for c in old.competences)

        later = NOW + timedelta(days=30)
        plan = service.plan_load(session, read_files(REFERENTIALS / "bunk.yaml"))
        assert [(s.code, s.version) for s in plan.new] == [("bunk", BUNK_VERSION)]
        service.apply_plan(session, plan, now=later, actor=None)
        session.expire_all()

        old = queries.referential_version(session, "bunk", 1)
        new = queries.referential_version(session, "bunk", BUNK_VERSION)
        assert BUNK_VERSION > 1 and old.superseded_at == later and new.is_current
        assert {c.code: c.id for c in old.competences} == old_ids
        assert {c.code: dict(c.name) for c in old.competences} == old_names
        assert {i.id: dict(i.text) for c in old.competences for i in c.indicators} == (
            old_indicators
        )
        assert all(c.statement == {} for c in old.competences)
        assert {c.code for c in new.competences} == set(old_ids)
        assert not set(old_ids.values()) & {c.id for c in new.competences}
        said = {c.code: c.statement["fr"] for c in new.competences}
        assert said["capacites-d-intervention"] == (
            "Je demande de l'aide quand une tâche est trop dure"
        )
        assert all(len(text) <= 60 for text in said.values())
        # v1 is still in the database and never reloaded: the repository's files load as-is.
        assert not service.plan_load(session, read_files(REFERENTIALS / "bunk.yaml")).changes
