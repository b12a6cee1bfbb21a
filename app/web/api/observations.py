"""API v1: observations (list, create with an idempotency key, correct, withdraw)."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, current_app, g, request

from app.domain.enums import WithdrawalReason
from app.extensions import db
from app.queries import observations as obs_queries
from app.services import observations as service
from app.web.api import bp
from app.web.api import schemas as s
from app.web.utils import now

MAX_ITEMS = 100


@bp.get("/structures/<structure_id>/observations")
def list_observations(structure_id: str):  # type: ignore[no-untyped-def]
    try:
        limit = min(max(int(request.args.get("limit", 50)), 1), 200)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError as exc:
        raise s.BadRequest("« limit » et « offset » doivent être des nombres entiers.") from exc
    rows = obs_queries.visible_observations(
        db.session,
        g.membership,
        worker_public_id=request.args.get("worker"),
        limit=limit,
        offset=offset,
    )
    return {"observations": [s.observation_json(o) for o in rows], "limit": limit, "offset": offset}


@bp.post("/structures/<structure_id>/observations")
def create_observations(structure_id: str):  # type: ignore[no-untyped-def]
    key = request.headers.get("Idempotency-Key", "")
    if not key:
        raise s.BadRequest("L'en-tête Idempotency-Key est obligatoire.")
    data = s.body(request.get_json(silent=True))
    author = data.get("author")
    if author is not None and author != g.user.public_id:
        raise s.WrongAuthor()
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items or len(raw_items) > MAX_ITEMS:
        raise s.BadRequest(f"« items » doit être une liste de 1 à {MAX_ITEMS} éléments.")
    items = []
    for raw in raw_items:
        item = s.body(raw)
        comment = item.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise s.BadRequest("« comment » doit être un texte.")
        items.append(
            service.CaptureItem(
                worker_id=s.string(item, "worker") or "",
                competence_id=s.string(item, "competence") or "",
                level=s.level(item),
                comment=comment,
            )
        )
    result = service.record_capture(
        db.session,
        author=g.membership,
        situation_id=s.string(data, "situation") or "",
        observed_at=s.timestamp(data, "observed_at", required=False),
        items=items,
        idempotency_key=key,
        now=now(),
    )
    payload = {
        "capture": result.capture.public_id,
        "created": result.created,
        "observations": [s.observation_json(o) for o in result.observations],
    }
    # Built before the commit, which would expire every loaded row and re-read them.
    db.session.commit()
    return payload, 201 if result.created else 200


def _observation(observation_id: str):  # type: ignore[no-untyped-def]
    observation = obs_queries.visible_observation(db.session, g.membership, observation_id)
    if observation is None:
        abort(404)
    return observation


@bp.post("/structures/<structure_id>/observations/<observation_id>/corrections")
def correct_observation(structure_id: str, observation_id: str):  # type: ignore[no-untyped-def]
    observation = _observation(observation_id)
    data = s.body(request.get_json(silent=True))
    comment = data.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise s.BadRequest("« comment » doit être un texte.")
    service.correct_observation(
        db.session,
        observation=observation,
        editor=g.user,
        level=s.level(data),
        observed_at=s.timestamp(data, "observed_at", required=True),  # type: ignore[arg-type]
        comment=comment,
        now=now(),
        window=timedelta(days=current_app.config["OBSERVATION_CORRECTION_DAYS"]),
    )
    db.session.commit()
    return s.observation_json(observation)


@bp.post("/structures/<structure_id>/observations/<observation_id>/withdrawal")
def withdraw_observation(structure_id: str, observation_id: str):  # type: ignore[no-untyped-def]
    observation = _observation(observation_id)
    data = s.body(request.get_json(silent=True))
    try:
        reason = WithdrawalReason(data.get("reason"))
    except ValueError as exc:
        choices = ", ".join(r.value for r in WithdrawalReason)
        raise s.BadRequest(f"« reason » doit valoir l'une de ces valeurs : {choices}.") from exc
    service.withdraw_observation(
        db.session, observation=observation, actor=g.membership, reason=reason, now=now()
    )
    db.session.commit()
    return s.observation_json(observation)
