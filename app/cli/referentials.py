"""``flask referentials load PATH [--apply]``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.domain.referentials import InvalidReferential
from app.extensions import db
from app.models.base import utcnow
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
    try:
        plan = service.plan_load(db.session, read_files(path))
    except InvalidReferential as error:
        for issue in error.issues:
            click.echo(f"error: {issue}", err=True)
        click.echo("Nothing loaded.", err=True)
        sys.exit(1)
    except service.ReferentialConflict as error:
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
    click.echo(f"Loaded {len(plan.new)} referential version(s).")
