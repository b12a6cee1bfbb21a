"""Issuer signing keys: one active RSA key pair per structure, private half on disk."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import openbadges
from app.models import SigningKey, Structure
from app.services import audit


def active_key(session: Session, structure: Structure) -> SigningKey | None:
    """The key ``structure`` signs with now, if any."""
    return session.scalar(
        select(SigningKey)
        .where(
            SigningKey.structure_id == structure.id,
            SigningKey.retired_at.is_(None),
            SigningKey.compromised_at.is_(None),
        )
        .order_by(SigningKey.created_at.desc())
    )


def generate_key(
    session: Session, *, structure: Structure, keys_dir: Path, now: datetime
) -> SigningKey:
    """A new key pair for ``structure``: private PEM written 0600 under ``keys_dir``."""
    private = openbadges.generate_private_key()
    key = SigningKey(
        structure_id=structure.id,
        public_key_pem=openbadges.public_key_to_pem(private),
        private_key_file="",
        created_at=now,
    )
    session.add(key)
    session.flush()
    relative = Path(structure.public_id) / f"{key.public_id}.pem"
    path = keys_dir / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(openbadges.private_key_to_pem(private))
    key.private_key_file = str(relative)
    audit.record(
        session, action="key.generated", now=now, structure=structure, target=key.public_id
    )
    return key


def ensure_key(
    session: Session, *, structure: Structure, keys_dir: Path, now: datetime
) -> tuple[SigningKey, bool]:
    """The structure's active key, generated if it has none yet; and whether it is new."""
    key = active_key(session, structure)
    if key is not None and (keys_dir / key.private_key_file).exists():
        return key, False
    return generate_key(session, structure=structure, keys_dir=keys_dir, now=now), True
