"""Pure rules on what an observation may record and who may change it (OBS-02, 07, 09)."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from typing import Any

from app.domain import wording
from app.domain.errors import (
    CommentTooLong,
    CorrectionWindowClosed,
    FutureObservation,
    InvalidLevel,
    NotTheAuthor,
    SensitiveComment,
)

LEVELS = (1, 2, 3, 4, 5)
COMMENT_MAX_LENGTH = 500
#: Clocks of phones drift; an observation a few minutes "in the future" is not an error.
CLOCK_TOLERANCE = timedelta(minutes=10)


def check_level(level: int | None) -> int | None:
    """A level 1–5, or ``None`` for « non observé » (which is not a level)."""
    if level is None:
        return None
    if isinstance(level, bool) or not isinstance(level, int) or level not in LEVELS:
        raise InvalidLevel()
    return level


def check_observed_at(observed_at: datetime, *, now: datetime) -> datetime:
    """When the work was seen: aware, and not in the future."""
    if observed_at.tzinfo is None:
        raise FutureObservation("La date d'observation doit préciser son fuseau horaire.")
    if observed_at > now + CLOCK_TOLERANCE:
        raise FutureObservation()
    return observed_at


def check_free_text(text: str | None, *, max_length: int, keep_lines: bool = False) -> str | None:
    """Short free text about work only: no health, social, family or justice information.

    Spaces are tidied; with ``keep_lines`` the line breaks stay (a list of next steps).
    """
    if text is None:
        return None
    if keep_lines:
        lines = (" ".join(line.split()) for line in text.splitlines())
        text = "\n".join(line for line in lines if line)
    else:
        text = " ".join(text.split())
    if not text:
        return None
    if len(text) > max_length:
        raise CommentTooLong(f"Le texte est trop long : {max_length} caractères au plus.")
    terms = wording.sensitive_terms(text)
    if terms:
        raise SensitiveComment(terms)
    return text


def check_comment(text: str | None) -> str | None:
    """A short, optional observation comment (OBS-07)."""
    return check_free_text(text, max_length=COMMENT_MAX_LENGTH)


def check_can_correct(
    *, author_id: int, editor_id: int, recorded_at: datetime, now: datetime, window: timedelta
) -> None:
    """Only the author corrects, and only within the correction window."""
    if author_id != editor_id:
        raise NotTheAuthor()
    if now - recorded_at > window:
        raise CorrectionWindowClosed()


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body, to tell a resend from a different request."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
