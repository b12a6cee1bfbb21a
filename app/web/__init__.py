"""The web layer: blueprints, access control, error pages, headers and Jinja settings."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, request
from flask_login import current_user
from jinja2 import StrictUndefined
from sqlalchemy import event, select

from app.extensions import db, login_manager
from app.web.access import check_table, enforce_access
from app.web.errors import register_errors
from app.web.i18n import LANGUAGE_NAMES, localized
from app.web.timez import format_iso_day, format_local, format_local_day
from app.web.utils import PublicIdConverter

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def register_web(app: Flask) -> None:
    """Register blueprints, hooks and template settings on ``app``."""
    from app.extensions import csrf
    from app.web import api
    from app.web.blueprints import (
        admin,
        assessments,
        auth,
        home,
        identity,
        me,
        observations,
        openbadges,
        platform,
        portfolio,
        progress,
        referentials,
        staff,
        verify,
    )

    app.url_map.converters["pid"] = PublicIdConverter
    for module in (
        home,
        auth,
        me,
        portfolio,
        platform,
        referentials,
        staff,
        identity,
        admin,
        observations,
        progress,
        assessments,
        openbadges,
        verify,
    ):
        app.register_blueprint(module.bp)
    # The API authenticates with bearer tokens, which browsers never send on their own.
    csrf.exempt(api.bp)
    app.register_blueprint(api.bp)

    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(user_public_id: str):  # type: ignore[no-untyped-def]
        from app.models import User

        return db.session.scalar(select(User).where(User.public_id == user_public_id))

    app.before_request(_refuse_nul_characters)
    app.before_request(_declare_write_intent)
    app.before_request(enforce_access)
    app.after_request(_security_headers)
    register_errors(app)
    check_table(app)

    if app.config.get("TEMPLATES_STRICT", True) and not app.config.get("PRODUCTION"):
        app.jinja_env.undefined = StrictUndefined
    app.jinja_env.globals.update(
        localized=localized, language_names=LANGUAGE_NAMES, role_title=_role_title
    )
    app.jinja_env.filters["local_dt"] = format_local
    app.jinja_env.filters["local_day"] = format_local_day
    app.jinja_env.filters["iso_day"] = format_iso_day
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject() -> dict[str, Any]:
        from flask_babel import get_locale

        return {
            "current_locale": str(get_locale() or "fr"),
            "current_structure": g.get("structure"),
            "sid": g.structure.public_id if g.get("structure") else None,
            "current_membership": g.get("membership"),
            "current_user": current_user,
        }

    if app.config.get("GUARD_GET_WRITES"):
        with app.app_context():
            _guard_get_writes(db.engine)


def _role_title(structure: Any, role: Any) -> str:
    """A role's title in a structure (renamed or default)."""
    from app.domain.enums import DEFAULT_ROLE_TITLES, Role

    role = Role(role)
    titles = getattr(structure, "role_titles", None) or {}
    return titles.get(role.value) or DEFAULT_ROLE_TITLES[role]


#: GET pages that append to the staff-read log (PRIV-11), so they take the write lock.
GET_THAT_LOG_READS = frozenset(
    {
        "progress.journey",
        "progress.reviews",
        "staff.worker",
        "identity.contact",
        "verify.index",
        "api.verify",
    }
)


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _refuse_nul_characters():  # type: ignore[no-untyped-def]
    """No text may hold a NUL character: PostgreSQL cannot store it (400, not 500)."""
    from app.web.errors import render_error

    values: list[Any] = [*request.args.values(), *request.headers.values()]
    if request.method not in ("GET", "HEAD"):
        values.extend(request.form.values())
        if request.is_json:
            values.append(request.get_json(silent=True))
    if any(_has_nul(v) for v in values):
        return render_error(400, "Le texte envoyé contient un caractère non autorisé.")
    return None


def _declare_write_intent() -> None:
    """GET and HEAD only read (STYLE §7), so their SQLite transactions need no write lock —
    except the pages that append to the staff-read log."""
    from app.database import write_intent

    write_intent.set(
        request.method not in ("GET", "HEAD") or request.endpoint in GET_THAT_LOG_READS
    )


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), microphone=()")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user and current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


class WriteDuringGet(RuntimeError):
    """A GET or HEAD request tried to write (STYLE §7)."""


#: The only tables a GET may append to (STYLE §7): verification counts, staff-read log.
GET_APPEND_ONLY_TABLES: frozenset[str] = frozenset({"file_read_logs", "badge_verifications"})


def _guard_get_writes(engine: Any) -> None:
    """Tests only: fail any write statement issued while serving a GET or HEAD."""
    from flask import has_request_context

    @event.listens_for(engine, "before_cursor_execute")
    def check(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not has_request_context() or request.method not in ("GET", "HEAD"):
            return
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in {"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER"}:
            if not any(f" {t} " in f" {statement} " for t in GET_APPEND_ONLY_TABLES):
                raise WriteDuringGet(statement)
