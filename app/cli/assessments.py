"""``flask assessments recompute [--structure ID] [--apply]``."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from app.domain.enums import Role
from app.extensions import db
from app.models import Membership, MembershipRole, Structure
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
    query = (
        select(Membership)
        .join(MembershipRole)
        .join(Structure)
        .where(MembershipRole.role == Role.SALARIE, Structure.deactivated_at.is_(None))
        .order_by(Membership.id)
    )
    if structure_id:
        known = db.session.scalar(select(Structure.id).where(Structure.public_id == structure_id))
        if known is None:
            click.echo(f"error: no structure with id {structure_id}.", err=True)
            sys.exit(1)
        query = query.where(Structure.public_id == structure_id)
    workers = db.session.scalars(query).unique().all()
    templates = service.current_templates(db.session)
    now = utcnow()
    changes = []
    with click.progressbar(workers, label="Recalcul", file=sys.stderr) as bar:
        for worker in bar:
            changes += service.recompute_worker(
                db.session, worker=worker, now=now, templates=templates, apply=apply
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
