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
    session: Session,
    *,
    structure: Structure,
    keys_dir: Path,
    now: datetime,
    key_size: int = openbadges.keys.KEY_SIZE,
) -> SigningKey:
    """A new key pair for ``structure``: private PEM written 0600 under ``keys_dir``.

    The file is written before the row referencing it can be committed: a crash leaves at
    worst an unused file, never a published key whose private half is lost.
    """
    private = openbadges.generate_private_key(key_size)
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
    session: Session,
    *,
    structure: Structure,
    keys_dir: Path,
    now: datetime,
    key_size: int = openbadges.keys.KEY_SIZE,
) -> tuple[SigningKey, bool]:
    """The structure's active key, generated only if it never had one; and whether it is new.

    A key row whose private file is missing is an incident, not a reason to make a new key
    silently: ``MissingPrivateKey`` says which file to restore.
    """
    key = active_key(session, structure)
    if key is None and not has_any_key(session, structure):
        key = generate_key(
            session, structure=structure, keys_dir=keys_dir, now=now, key_size=key_size
        )
        return key, True
    if key is None:
        raise MissingPrivateKey(
            f"L'émetteur « {structure.name} » n'a plus de clé active : créez-en une avec "
            f"« flask keys rotate --issuer {structure.public_id} --apply »."
        )
    if not (keys_dir / key.private_key_file).is_file():
        raise MissingPrivateKey(missing_key_message(key, keys_dir))
    return key, False


def has_any_key(session: Session, structure: Structure) -> bool:
    return (
        session.scalar(select(SigningKey.id).where(SigningKey.structure_id == structure.id))
        is not None
    )


class MissingPrivateKey(RuntimeError):
    """An issuer's current private key file is not where its row says."""


def missing_key_message(key: SigningKey, keys_dir: Path) -> str:
    structure = key.structure
    return (
        f"La clé privée actuelle de l'émetteur « {structure.name} » est introuvable : "
        f"{keys_dir / key.private_key_file}. Restaurez ce fichier depuis votre sauvegarde. "
        f"S'il est perdu, créez une nouvelle clé : JALON_ALLOW_MISSING_KEYS=1 flask keys rotate "
        f"--issuer {structure.public_id} --apply (les badges déjà délivrés restent vérifiables "
        "avec l'ancienne clé publique)."
    )


def missing_private_keys(session: Session, keys_dir: Path) -> list[SigningKey]:
    """Current keys whose private file is missing (start-up refuses to run with any)."""
    current = session.scalars(
        select(SigningKey)
        .where(SigningKey.retired_at.is_(None), SigningKey.compromised_at.is_(None))
        .order_by(SigningKey.id)
    ).all()
    return [k for k in current if not (keys_dir / k.private_key_file).is_file()]


def rotate(
    session: Session,
    *,
    structure: Structure,
    keys_dir: Path,
    now: datetime,
    key_size: int = openbadges.keys.KEY_SIZE,
    previous: SigningKey | None = None,
) -> tuple[SigningKey | None, SigningKey]:
    """Retire the current key (it stays published) and sign from now on with a new one.

    ``previous`` names the key being replaced when it was already taken out of service
    (a compromised key), for the audit trail.
    """
    old = active_key(session, structure)
    if old is not None:
        old.retired_at = now
    new = generate_key(session, structure=structure, keys_dir=keys_dir, now=now, key_size=key_size)
    audit.record(
        session,
        action="key.rotated",
        now=now,
        structure=structure,
        target=new.public_id,
        details={"previous": (old or previous).public_id if (old or previous) else None},
    )
    return old, new
