"""``flask demo seed [--apply]``: the demo structure, and the logins to try it."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.models.base import utcnow
from app.services import demo
from app.services.badges import Issuing
from app.services.keys import MissingPrivateKey


@click.group("demo", help="Structure de démonstration.")
def group() -> None:
    pass


@group.command("seed")
@click.option("--apply", is_flag=True, help="Écrire en base (sinon : dire ce qui serait fait).")
@with_appcontext
def seed(apply: bool) -> None:
    """Create the demo structure, its people and teams, and its signing key."""
    try:
        report = demo.seed(
            db.session,
            now=utcnow(),
            keys_dir=Path(current_app.config["KEYS_DIR"]),
            write_key=apply,
            issuing=Issuing.from_config(current_app.config) if apply else None,
        )
    except MissingPrivateKey as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    for line in report.created:
        click.echo(f"{'created' if apply else 'would create'}: {line}")
    if report.key_created:
        click.echo(f"{'generated' if apply else 'would generate'}: signing key")
    if not apply:
        db.session.rollback()
        click.echo("Dry run: nothing written. Add --apply to create.")
        return
    db.session.commit()
    click.echo("")
    click.echo("Demo logins (http://127.0.0.1:5000/connexion):")
    for person in demo.PEOPLE:
        roles = ", ".join(sorted(r.value for r in person.roles)) or "superadmin"
        click.echo(f"  {person.login:<20} {person.secret:<18} {roles}")
