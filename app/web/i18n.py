"""Language choice: the person's setting, then a cookie, then the browser; French first."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user

LANGUAGE_NAMES = {"fr": "Français", "en": "English"}


def select_locale() -> str:
    """The language of this request."""
    languages = list(current_app.config["LANGUAGES"])
    user_locale = getattr(current_user, "locale", None) if current_user else None
    if user_locale in languages:
        return str(user_locale)
    cookie = request.cookies.get("lang")
    if cookie in languages:
        return str(cookie)
    return request.accept_languages.best_match(languages) or languages[0]


def localized(texts: dict[str, str] | None, locale: str) -> str:
    """A text in ``locale``, falling back to French (REQUIREMENTS ACC-04)."""
    if not texts:
        return ""
    return texts.get(locale) or texts.get("fr") or next(iter(texts.values()), "")
