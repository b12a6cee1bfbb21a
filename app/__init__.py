"""Jalon: the composition root. ``create_app`` builds the application; nothing runs at import."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build and configure a Jalon application."""
    from flask import Flask

    from app import models  # noqa: F401  (registers every table)
    from app.cli import register_cli
    from app.config import load_config, validate_config
    from app.database import configure_engine
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.web import register_web
    from app.web.i18n import select_locale

    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="web/templates",
        static_folder="web/static",
    )
    load_config(app, test_config)
    db.init_app(app)
    configure_engine(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"), render_as_batch=True)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    register_web(app)
    register_cli(app)
    validate_config(app)
    check_signing_keys(app)
    return app


def check_signing_keys(app: Flask) -> None:
    """Refuse to start when an issuer's current private key file is missing (BDG-08).

    Generating a new key silently would strand every badge it signed; the message says
    which file to restore. ``JALON_ALLOW_MISSING_KEYS=1`` lets the key commands run.
    """
    from pathlib import Path

    from sqlalchemy import inspect
    from sqlalchemy.exc import SQLAlchemyError

    from app.extensions import db
    from app.services import keys

    if app.config.get("ALLOW_MISSING_KEYS"):
        return
    with app.app_context():
        try:
            if not inspect(db.engine).has_table("signing_keys"):
                return  # not migrated yet
            missing = keys.missing_private_keys(db.session, Path(app.config["KEYS_DIR"]))
            problems = [keys.missing_key_message(k, Path(app.config["KEYS_DIR"])) for k in missing]
        except SQLAlchemyError:
            return  # a schema older than the models: ``flask db upgrade`` comes first
        finally:
            db.session.remove()
            db.engine.dispose()  # leave no pooled connection behind an app never used
    if problems:
        raise RuntimeError("\n".join(problems))
