"""``flask keys generate [--apply]``: give every structure without a key a key pair."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.extensions import db
from app.models import Structure
from app.models.base import utcnow
from app.services import keys as service


@click.group("keys", help="Clés de signature des émetteurs.")
def group() -> None:
    pass


@group.command("generate")
@click.option("--apply", is_flag=True, help="Créer les clés (sinon : dire ce qui serait fait).")
@with_appcontext
def generate(apply: bool) -> None:
    """Generate an RSA key pair for each structure that has no usable key yet."""
    keys_dir = Path(current_app.config["KEYS_DIR"])
    structures = db.session.scalars(
        select(Structure).where(Structure.deactivated_at.is_(None)).order_by(Structure.name)
    ).all()
    missing = [
        s
        for s in structures
        if (k := service.active_key(db.session, s)) is None
        or not (keys_dir / k.private_key_file).exists()
    ]
    if not missing:
        click.echo("Every structure has a signing key.")
        return
    for structure in missing:
        click.echo(f"{'generate' if apply else 'would generate'}: key for {structure.name}")
        if apply:
            service.generate_key(db.session, structure=structure, keys_dir=keys_dir, now=utcnow())
    if apply:
        db.session.commit()
    else:
        click.echo("Dry run: nothing written. Add --apply to generate.")
