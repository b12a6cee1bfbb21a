"""``flask referentials load PATH [--apply]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.loading import load_files
from app.domain.referentials import InvalidReferential
from app.extensions import db
from app.services import referentials as service


@click.group("referentials", help="Référentiels de compétences.")
def group() -> None:
    pass


def read_files(path: Path) -> list[tuple[str, str]]:
    """Every ``*.yaml`` file under ``path`` (or ``path`` itself), with its text."""
    files = sorted(path.rglob("*.yaml")) if path.is_dir() else [path]
    return [(str(f), f.read_text(encoding="utf-8")) for f in files]


@group.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--apply", is_flag=True, help="Écrire en base (sinon : dire ce qui changerait).")
@with_appcontext
def load(path: Path, apply: bool) -> None:
    """Validate and load referential files: all or nothing."""
    load_files(
        lambda: service.plan_load(db.session, read_files(path)),
        service.apply_plan,
        apply=apply,
        invalid=InvalidReferential,
        what="referential",
    )
