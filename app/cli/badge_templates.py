"""``flask badge-templates load PATH [--apply]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.loading import load_files
from app.cli.referentials import read_files
from app.domain.badge_templates import InvalidBadgeTemplate
from app.extensions import db
from app.services import badge_templates as service


@click.group("badge-templates", help="Modèles de badges numériques.")
def group() -> None:
    pass


@group.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--apply", is_flag=True, help="Écrire en base (sinon : dire ce qui changerait).")
@with_appcontext
def load(path: Path, apply: bool) -> None:
    """Validate and load badge templates: all or nothing."""
    load_files(
        lambda: service.plan_load(db.session, read_files(path)),
        service.apply_plan,
        apply=apply,
        invalid=InvalidBadgeTemplate,
        what="badge template",
    )
