"""``flask badge-templates load PATH [--apply]``: dry run by default, all or nothing,
immutable versions, broken files located by file, line and field (BDG-01, BDG-02)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, BadgeTemplate

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "badge_templates"
BROKEN = ROOT / "tests" / "data" / "badge_templates" / "broken"
FILE_COUNT = len(list(TEMPLATES.glob("*.yaml")))
ISSUE = re.compile(r"^error: (?P<path>\S+\.yaml):(?P<line>\d+): (?P<field>\S+): (?P<message>.+)$")


def _load(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["badge-templates", "load", *args])


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            "templates": db.session.scalar(select(func.count()).select_from(BadgeTemplate)) or 0,
            "audit": db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0,
        }


@pytest.fixture
def with_referentials(app: Flask) -> Flask:
    """An empty database with the referentials loaded, and no badge template yet."""
    loaded = app.test_cli_runner().invoke(
        args=["referentials", "load", str(ROOT / "referentials"), "--apply"]
    )
    assert loaded.exit_code == 0, loaded.output
    assert _counts(app)["templates"] == 0
    return app


def test_a_dry_run_lists_every_template_and_writes_nothing(with_referentials):
    before = _counts(with_referentials)
    result = _load(with_referentials, str(TEMPLATES))
    assert result.exit_code == 0, result.output
    assert "new: travailler-en-equipe v1" in result.stdout
    assert result.stdout.count("new: ") == FILE_COUNT
    assert "Dry run: nothing written. Add --apply to load." in result.stdout
    assert _counts(with_referentials) == before


def test_apply_loads_every_template_once_and_again_changes_nothing(with_referentials):
    before = _counts(with_referentials)
    result = _load(with_referentials, str(TEMPLATES), "--apply")
    assert result.exit_code == 0, result.output
    assert f"Loaded {FILE_COUNT} badge template version(s)." in result.stdout
    loaded = _counts(with_referentials)
    assert loaded == {"templates": FILE_COUNT, "audit": before["audit"] + FILE_COUNT}
    with with_referentials.app_context():
        template = db.session.scalars(
            select(BadgeTemplate).where(BadgeTemplate.code == "travailler-en-equipe")
        ).one()
        assert template.competences == ["bunk:travailler-en-equipe"]
        assert [t["level"] for t in template.tiers] == [3, 4, 5]
        assert template.tier(3)["criteria"]["max_age_days"] == 365
        assert template.name["fr"] == "Travailler en équipe"
    again = _load(with_referentials, str(TEMPLATES), "--apply")
    assert again.exit_code == 0, again.output
    assert "new: " not in again.stdout and "Nothing to change." in again.stdout
    assert again.stdout.count("unchanged: ") == FILE_COUNT
    assert _counts(with_referentials) == loaded


@pytest.mark.parametrize(
    ("name", "line", "field"),
    [
        ("missing-field.yaml", 2, "criteria_narrative"),
        ("wrong-type.yaml", 17, "criteria.min_span_days"),
        ("unknown-competence.yaml", 12, "competences[1]"),
        ("blocked-handicape.yaml", 9, "description.fr"),
        ("blocked-inclusive.yaml", 13, "tags[1]"),
        ("yaml-syntax-error.yaml", 13, "(syntaxe)"),
    ],
)
def test_a_broken_template_exits_1_with_file_line_and_field(with_referentials, name, line, field):
    before = _counts(with_referentials)
    result = _load(with_referentials, str(BROKEN / name), "--apply")
    assert result.exit_code == 1
    issues = [m for m in map(ISSUE.match, result.stderr.splitlines()) if m]
    assert [(m["path"], int(m["line"]), m["field"]) for m in issues] == [
        (str(BROKEN / name), line, field)
    ]
    assert "Nothing loaded." in result.stderr
    assert _counts(with_referentials) == before


def test_one_broken_file_among_good_ones_loads_nothing(with_referentials, tmp_path):
    shutil.copytree(TEMPLATES, tmp_path / "templates", ignore=shutil.ignore_patterns("*.md"))
    shutil.copy(BROKEN / "wrong-type.yaml", tmp_path / "templates" / "zz-wrong-type.yaml")
    before = _counts(with_referentials)
    result = _load(with_referentials, str(tmp_path / "templates"), "--apply")
    assert result.exit_code == 1
    assert "zz-wrong-type.yaml:17: criteria.min_span_days:" in result.stderr
    assert _counts(with_referentials) == before


def test_a_loaded_version_never_changes(with_referentials, tmp_path):
    assert _load(with_referentials, str(TEMPLATES), "--apply").exit_code == 0
    loaded = _counts(with_referentials)
    edited = tmp_path / "travailler-en-equipe.yaml"
    text = (TEMPLATES / "travailler-en-equipe.yaml").read_text(encoding="utf-8")
    edited.write_text(text.replace("partage les\n    tâches", "partage les\n    outils"), "utf-8")
    assert edited.read_text(encoding="utf-8") != text
    result = _load(with_referentials, str(edited), "--apply")
    assert result.exit_code == 1
    assert "la version 1 du badge « travailler-en-equipe » est déjà chargée" in result.stderr
    assert "augmentez « version »" in result.stderr
    assert _counts(with_referentials) == loaded


def test_without_the_referentials_no_competence_is_known(app):
    result = _load(app, str(TEMPLATES / "travailler-en-equipe.yaml"), "--apply")
    assert result.exit_code == 1
    assert "competences[0]: compétence inconnue" in result.stderr
    assert _counts(app)["templates"] == 0
