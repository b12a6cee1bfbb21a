"""``flask keys …``: issuer signing keys (dry run unless ``--apply``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.domain.errors import DomainError
from app.extensions import db
from app.models import SigningKey, Structure
from app.models.base import utcnow
from app.services import keys as service


@click.group("keys", help="Clés de signature des émetteurs.")
def group() -> None:
    pass


def _keys_dir() -> Path:
    return Path(current_app.config["KEYS_DIR"])


@group.command("generate")
@click.option("--apply", is_flag=True, help="Créer les clés (sinon : dire ce qui serait fait).")
@with_appcontext
def generate(apply: bool) -> None:
    """Generate a key pair for each structure that never had one."""
    structures = db.session.scalars(
        select(Structure).where(Structure.deactivated_at.is_(None)).order_by(Structure.name)
    ).all()
    missing = [s for s in structures if not service.has_any_key(db.session, s)]
    if not missing:
        click.echo("Every structure has a signing key.")
        return
    for structure in missing:
        click.echo(f"{'generate' if apply else 'would generate'}: key for {structure.name}")
        if apply:
            service.generate_key(
                db.session,
                structure=structure,
                keys_dir=_keys_dir(),
                now=utcnow(),
                key_size=int(current_app.config["KEY_SIZE"]),
            )
    if apply:
        db.session.commit()
    else:
        click.echo("Dry run: nothing written. Add --apply to generate.")


@group.command("rotate")
@click.option("--issuer", "issuer_id", required=True, help="Identifiant public de l'émetteur.")
@click.option("--apply", is_flag=True, help="Changer de clé (sinon : dire ce qui serait fait).")
@with_appcontext
def rotate(issuer_id: str, apply: bool) -> None:
    """Sign new badges with a new key; the old public key stays published."""
    structure = db.session.scalar(select(Structure).where(Structure.public_id == issuer_id))
    if structure is None:
        raise click.ClickException(f"No issuer with id {issuer_id}.")
    current = service.active_key(db.session, structure)
    where = f"current key {current.public_id}" if current else "no current key"
    if not apply:
        click.echo(f"would rotate: {structure.name} ({where}) -> a new key")
        click.echo("Dry run: nothing written. Add --apply to rotate.")
        return
    old, new = service.rotate(
        db.session,
        structure=structure,
        keys_dir=_keys_dir(),
        now=utcnow(),
        key_size=int(current_app.config["KEY_SIZE"]),
    )
    db.session.commit()
    retired = f"retired {old.public_id}, " if old else ""
    click.echo(f"rotated: {structure.name}: {retired}new key {new.public_id}")


@group.command("compromised")
@click.argument("key_id")
@click.option("--apply", is_flag=True, help="Agir (sinon : dire ce qui serait fait).")
@with_appcontext
def compromised(key_id: str, apply: bool) -> None:
    """A private key leaked: rotate, revoke what it signed, re-issue each badge."""
    from app.services import revocations
    from app.services.badges import Issuing

    key = db.session.scalar(select(SigningKey).where(SigningKey.public_id == key_id))
    if key is None:
        raise click.ClickException(f"No key with id {key_id}.")
    if key.compromised_at is not None:
        raise click.ClickException(f"Key {key_id} is already marked compromised.")
    affected = revocations.signed_with(db.session, key)
    if not apply:
        current = service.active_key(db.session, key.structure)
        rotation = "keep the current key" if current and current.id != key.id else "a new key"
        click.echo(f"would mark compromised: key {key.public_id} of {key.structure.name}")
        click.echo(f"would sign from now on with: {rotation}")
        for assertion in affected:
            click.echo(f"would revoke (cle_compromise) and re-issue: badge {assertion.public_id}")
        click.echo(f"Dry run: {len(affected)} badge(s), nothing written. Add --apply to act.")
        return
    try:
        new_key, pairs = revocations.compromise_key(
            db.session, key, issuing=Issuing.from_config(current_app.config), now=utcnow()
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"nothing done: {error.message}") from error
    db.session.commit()
    click.echo(f"compromised: key {key.public_id}; now signing with {new_key.public_id}")
    for old, new in pairs:
        click.echo(f"revoked {old.public_id} -> re-issued {new.public_id}")


@group.command("list")
@with_appcontext
def list_keys() -> None:
    """Every issuer key, with its state (a retired key still verifies earlier badges)."""
    rows = db.session.execute(
        select(SigningKey, Structure)
        .join(Structure, Structure.id == SigningKey.structure_id)
        .order_by(Structure.name, SigningKey.created_at)
    ).all()
    for key, structure in rows:
        state = "compromised" if key.compromised_at else "retired" if key.retired_at else "current"
        click.echo(f"{structure.public_id}\t{structure.name}\t{key.public_id}\t{state}")
