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
    return app
