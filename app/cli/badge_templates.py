"""``flask badge-templates load PATH [--apply]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.cli.referentials import read_files
from app.domain.badge_templates import InvalidBadgeTemplate
from app.extensions import db
from app.models.base import utcnow
from app.services import badge_templates as service
from app.services.referentials import ReferentialConflict


@click.group("badge-templates", help="Modèles de badges numériques.")
def group() -> None:
    pass


@group.command("load")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--apply", is_flag=True, help="Écrire en base (sinon : dire ce qui changerait).")
@with_appcontext
def load(path: Path, apply: bool) -> None:
    """Validate and load badge templates: all or nothing."""
    try:
        plan = service.plan_load(db.session, read_files(path))
    except InvalidBadgeTemplate as error:
        for issue in error.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo("Nothing loaded.", err=True)
        sys.exit(1)
    except ReferentialConflict as error:
        click.echo(f"error: {error.message}", err=True)
        click.echo("Nothing loaded.", err=True)
        sys.exit(1)
    for spec in plan.new:
        click.echo(f"new: {spec.code} v{spec.version}")
    for spec in plan.unchanged:
        click.echo(f"unchanged: {spec.code} v{spec.version}")
    if not plan.changes:
        click.echo("Nothing to change.")
        return
    if not apply:
        click.echo("Dry run: nothing written. Add --apply to load.")
        return
    service.apply_plan(db.session, plan, now=utcnow(), actor=None)
    db.session.commit()
    click.echo(f"Loaded {len(plan.new)} badge template version(s).")
