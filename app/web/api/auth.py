"""Bearer tokens for the API: ``Authorization: Bearer <token>``."""

from __future__ import annotations

from flask import g, request, session
from werkzeug.exceptions import Unauthorized

from app.extensions import db
from app.models import User
from app.services import tokens
from app.web.utils import now


class TokenRequired(Unauthorized):
    description = "Un jeton d'accès valide est nécessaire (en-tête Authorization: Bearer …)."


def authenticate(*, capture_allowed: bool) -> User:
    """The user behind the request's bearer token, or 401.

    A capture token is accepted only where ``capture_allowed`` and only together with the
    browser session it was issued to (it dies with that session at logout).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise TokenRequired()
    token = tokens.find_token(db.session, value.strip(), now=now())
    if token is None:
        raise TokenRequired()
    if token.kind == tokens.CAPTURE:
        if not capture_allowed or token.session_nonce != session.get("capture_nonce"):
            raise TokenRequired()
    g.api_token = token
    return token.user
