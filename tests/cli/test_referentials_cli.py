"""``flask referentials load PATH [--apply]``: dry run by default, all or nothing."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from flask import Flask
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Competence, Indicator, Referential

ROOT = Path(__file__).resolve().parents[2]
REFERENTIALS = ROOT / "referentials"
BROKEN = ROOT / "tests" / "data" / "referentials" / "broken"
NEXT = ROOT / "tests" / "data" / "referentials" / "v3"  # bunk.yaml as a later version
ISSUE = re.compile(r"^error: (?P<path>\S+\.yaml):(?P<line>\d+): (?P<field>\S+): (?P<message>.+)$")
FILE_COUNT = len(list(REFERENTIALS.rglob("*.yaml")))


def _version(path: Path) -> int:
    version: int = yaml.safe_load(path.read_text(encoding="utf-8"))["version"]
    return version


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            t.__tablename__: db.session.scalar(select(func.count()).select_from(t))
            for t in (Referential, Competence, Indicator, AuditEvent)
        }


def _load(app: Flask, *args: str):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(args=["referentials", "load", *args])


def test_a_dry_run_lists_what_is_new_and_writes_nothing(app):
    result = _load(app, str(REFERENTIALS))
    assert result.exit_code == 0, result.output
    bunk = f"new: bunk v{_version(REFERENTIALS / 'bunk.yaml')}"
    assert bunk in result.stdout and "new: echelle-5-niveaux v1" in result.stdout
    assert result.stdout.count("new: ") == FILE_COUNT
    assert "Dry run: nothing written. Add --apply to load." in result.stdout
    assert set(_counts(app).values()) == {0}


def test_apply_loads_everything_and_a_second_run_changes_nothing(app):
    result = _load(app, str(REFERENTIALS), "--apply")
    assert result.exit_code == 0, result.output
    assert f"Loaded {FILE_COUNT} referential version(s)." in result.stdout
    after_first = _counts(app)
    assert after_first["referentials"] == FILE_COUNT
    assert after_first["audit_events"] == FILE_COUNT
    again = _load(app, str(REFERENTIALS), "--apply")
    assert again.exit_code == 0, again.output
    assert "new: " not in again.stdout and "Nothing to change." in again.stdout
    assert again.stdout.count("unchanged: ") == FILE_COUNT
    assert _counts(app) == after_first


def test_a_new_version_is_listed_then_loaded(app):
    assert _load(app, str(REFERENTIALS / "bunk.yaml"), "--apply").exit_code == 0
    dry = _load(app, str(NEXT))
    assert dry.exit_code == 0 and f"new: bunk v{_version(NEXT / 'bunk.yaml')}" in dry.stdout
    assert _counts(app)["referentials"] == 1
    applied = _load(app, str(NEXT), "--apply")
    assert applied.exit_code == 0 and "Loaded 1 referential version(s)." in applied.stdout
    assert _counts(app)["referentials"] == 2


def test_a_broken_file_is_reported_by_path_line_and_field_and_nothing_is_loaded(app):
    broken = BROKEN / "missing-fr.yaml"
    result = _load(app, str(broken), "--apply")
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines == [
        f"error: {broken}:9: competences[0].name.fr: champ obligatoire manquant : fr",
        "Nothing loaded.",
    ]
    assert set(_counts(app).values()) == {0}


def test_every_broken_file_of_a_folder_is_reported_and_good_files_are_not_loaded(app, tmp_path):
    folder = tmp_path / "referentials"
    folder.mkdir()
    (folder / "bunk.yaml").write_text((REFERENTIALS / "bunk.yaml").read_text("utf-8"), "utf-8")
    for broken in BROKEN.glob("*.yaml"):
        (folder / broken.name).write_text(broken.read_text("utf-8"), "utf-8")
    result = _load(app, str(folder), "--apply")
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    matches = [ISSUE.match(line) for line in errors]
    assert all(matches), errors
    reported = {Path(m["path"]).name for m in matches if m}
    assert reported == {f.name for f in BROKEN.glob("*.yaml")}
    assert all(int(m["line"]) >= 1 for m in matches if m)
    assert "bunk" not in result.stdout and result.stderr.rstrip().endswith("Nothing loaded.")
    assert set(_counts(app).values()) == {0}


def test_changed_content_without_a_new_version_is_refused(app, tmp_path):
    assert _load(app, str(REFERENTIALS / "bunk.yaml"), "--apply").exit_code == 0
    before = _counts(app)
    text = (REFERENTIALS / "bunk.yaml").read_text("utf-8")
    tampered = tmp_path / "bunk.yaml"
    tampered.write_text(text.replace("Range son poste", "Range toujours son poste"), "utf-8")
    result = _load(app, str(tampered), "--apply")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and "augmentez « version »" in result.stderr
    assert _counts(app) == before
