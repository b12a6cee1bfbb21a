"""Layer boundaries are tested, not only documented (STYLE §3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"

FORBIDDEN = {
    "domain": (
        "flask",
        "flask_",
        "sqlalchemy",
        "app.models",
        "app.services",
        "app.web",
        "app.queries",
        "app.openbadges",
        "app.cli",
        "app.extensions",
    ),
    "openbadges": (
        "flask",
        "flask_",
        "sqlalchemy",
        "app.models",
        "app.services",
        "app.web",
        "app.queries",
        "app.domain",
        "app.cli",
        "app.extensions",
    ),
    "services": ("flask", "flask_", "app.web", "app.cli", "app.extensions"),
    "queries": ("flask", "flask_", "app.services", "app.web", "app.cli"),
}


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def matches(name: str, prefix: str) -> bool:
    """``flask_`` matches ``flask_login``; ``flask`` matches ``flask`` and ``flask.x``."""
    if prefix.endswith("_"):
        return name.startswith(prefix)
    return name == prefix or name.startswith(prefix + ".")


def offending(package: str) -> list[str]:
    found = []
    for path in sorted((APP / package).rglob("*.py")):
        for name in imports_of(path):
            if any(matches(name, prefix) for prefix in FORBIDDEN[package]):
                found.append(f"{path.relative_to(APP)} imports {name}")
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_imports_stay_inside_their_bounds(package):
    assert offending(package) == []


def test_the_checker_would_catch_a_flask_import(tmp_path, monkeypatch):
    fake = tmp_path / "domain"
    fake.mkdir()
    (fake / "bad.py").write_text("from flask import request\nimport sqlalchemy.orm\n")
    import sys

    monkeypatch.setattr(sys.modules[__name__], "APP", tmp_path)
    assert len(offending("domain")) == 2


def test_pure_packages_import_without_flask_or_sqlalchemy():
    import subprocess
    import sys

    code = (
        "import sys, app.domain.referentials, app.domain.wording, app.domain.accounts, "
        "app.openbadges\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy')]\n"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=APP.parent)
