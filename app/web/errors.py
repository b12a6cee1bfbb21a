"""HTTP error pages and the mapping of domain errors, in one place."""

from __future__ import annotations

from flask import Flask, flash, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.domain.errors import DomainError

MESSAGES = {
    400: "La demande n'a pas pu être comprise. Vérifiez le formulaire et réessayez.",
    401: "Un jeton d'accès valide est nécessaire.",
    403: "Vous n'avez pas accès à cette page avec votre rôle.",
    404: "Cette page n'existe pas, ou vous n'y avez pas accès.",
    405: "Cette action n'est pas possible ici.",
    409: "Cette demande entre en conflit avec une autre.",
    413: "Le fichier envoyé est trop lourd.",
    415: "Envoyez du JSON (Content-Type: application/json).",
    422: "Cette demande ne peut pas être traitée.",
    429: "Trop de tentatives en peu de temps. Attendez une minute, puis réessayez.",
    500: "Une erreur s'est produite de notre côté. Réessayez dans un instant.",
}


def flash_error(error: DomainError) -> None:
    """Show a domain error to the person as a flash message."""
    flash(_(error.message), "error")


ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    500: "server_error",
}


def _render(code: int, message: str | None = None, error_code: str | None = None):  # type: ignore[no-untyped-def]
    text = message or MESSAGES.get(code, MESSAGES[500])
    if request.path.startswith("/api/"):
        return {"error": error_code or ERROR_CODES.get(code, "error"), "message": _(text)}, code
    return render_template("errors/error.html", code=code, message=_(text)), code


def render_error(code: int, message: str):  # type: ignore[no-untyped-def]
    """An error answer (page or API JSON) with a specific message."""
    return _render(code, message)


def register_errors(app: Flask) -> None:
    """Attach the handlers to ``app``."""

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):  # type: ignore[no-untyped-def]
        return _render(
            400,
            "Le formulaire a expiré ou n'a pas été envoyé depuis Jalon. "
            "Rechargez la page et recommencez.",
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):  # type: ignore[no-untyped-def]
        return _render(error.code or 500)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        return _render(error.status, error.message, error.code)
