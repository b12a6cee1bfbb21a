"""``flask assessments recompute [--structure ID] [--apply]``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Structure
from app.models.base import utcnow
from app.services import assessments as service


@click.group("assessments", help="Statuts des compétences et propositions de badges.")
def group() -> None:
    pass


@group.command("recompute")
@click.option("--structure", "structure_id", help="Identifiant public d'une structure.")
@click.option("--apply", is_flag=True, help="Enregistrer (sinon : dire ce qui changerait).")
@with_appcontext
def recompute(structure_id: str | None, apply: bool) -> None:
    """Recompute every status with the engine; report what changed."""
    if structure_id:
        known = db.session.scalar(select(Structure.id).where(Structure.public_id == structure_id))
        if known is None:
            click.echo(f"error: no structure with id {structure_id}.", err=True)
            sys.exit(1)
    workers = service.workers_to_recompute(db.session, structure_id)
    templates = service.current_templates(db.session)
    now = utcnow()
    with click.progressbar(length=len(workers), label="Recalcul", file=sys.stderr) as bar:
        changes = service.recompute_workers(
            db.session, workers=workers, now=now, templates=templates, apply=apply, done=bar.update
        )
    for change in changes:
        click.echo(
            f"{'changed' if apply else 'would change'}: {change.worker.user.login} "
            f"{change.template.code} niveau {change.level}: {change.before or '—'} → {change.after}"
        )
    click.echo(f"{len(workers)} worker(s), {len(changes)} change(s).")
    if apply:
        db.session.commit()
    else:
        db.session.rollback()
        if changes:
            click.echo("Dry run: nothing written. Add --apply to save.")
