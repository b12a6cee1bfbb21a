"""Turning request bodies into service inputs, and models into JSON, for API v1."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.domain.errors import DomainError
from app.models import Observation


class BadRequest(DomainError):
    code = "bad_request"
    status = 400


class WrongAuthor(DomainError):
    code = "wrong_author"
    status = 403
    message = (
        "Cette saisie a été faite par une autre personne. Elle attend que cette personne "
        "se reconnecte sur cet appareil."
    )


def body(payload: Any) -> dict[str, Any]:
    """The JSON object of a request, or a clear 400."""
    if not isinstance(payload, dict):
        raise BadRequest("Le corps de la requête doit être un objet JSON.")
    return payload


def string(
    data: dict[str, Any], key: str, *, required: bool = True, max_length: int = 200
) -> str | None:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise BadRequest(
            f"Le champ « {key} » est obligatoire (texte de {max_length} caractères au plus)."
        )
    return value.strip()


def level(data: dict[str, Any], key: str = "level") -> int | None:
    if key not in data:
        raise BadRequest(
            "Le champ « level » est obligatoire : un niveau de 1 à 5, ou null pour « non observé »."
        )
    value = data[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest("« level » doit être un nombre entier de 1 à 5, ou null.")
    return value


def timestamp(data: dict[str, Any], key: str, *, required: bool) -> datetime | None:
    value = data.get(key)
    if value is None:
        if required:
            raise BadRequest(f"Le champ « {key} » est obligatoire (date ISO 8601 avec fuseau).")
        return None
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"« {key} » doit être une date ISO 8601 avec fuseau horaire.") from exc
    if parsed.tzinfo is None:
        raise BadRequest(f"« {key} » doit préciser son fuseau horaire (par exemple Z).")
    return parsed


def observation_json(observation: Observation) -> dict[str, Any]:
    """The public shape of an observation in the API."""
    competence = observation.competence
    comment = observation.comment
    return {
        "id": observation.public_id,
        "worker": {
            "id": observation.worker.public_id,
            "name": observation.worker.user.display_name,
        },
        "competence": {
            "id": competence.public_id,
            "code": competence.code,
            "name": competence.name.get("fr", competence.code),
            "referential": {
                "code": competence.referential.code,
                "version": competence.referential.version,
            },
        },
        "situation": {"id": observation.situation.public_id, "name": observation.situation.name},
        "level": observation.level,
        "observed_at": observation.observed_at.isoformat(),
        "recorded_at": observation.recorded_at.isoformat(),
        "author": {"id": observation.author.public_id, "name": observation.author.display_name},
        "author_role": observation.author_role.value,
        "version": observation.version,
        "withdrawn": observation.is_withdrawn,
        "withdrawal_reason": observation.withdrawal_reason.value
        if observation.withdrawal_reason
        else None,
        "comment": comment.text if comment else None,
    }
