"""Landing page, the plain-language page about badges, and the language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from app.extensions import db
from app.queries.people import staff_structures
from app.web.utils import safe_next

bp = Blueprint("home", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    return render_template("home/index.html")


def home_url_for(user) -> str:  # type: ignore[no-untyped-def]
    """Staff land on their first structure; everyone else on their own space."""
    structures = staff_structures(db.session, user)
    if structures:
        return url_for("staff.home", structure_id=structures[0].public_id)
    if user.is_superadmin:
        return url_for("platform.structures")
    return url_for("me.index")


@bp.get("/badge-numerique")
def about_badges():  # type: ignore[no-untyped-def]
    return render_template("home/about_badges.html")


@bp.post("/langue")
def set_language():  # type: ignore[no-untyped-def]
    lang = request.form.get("lang", "fr")
    if lang not in current_app.config["LANGUAGES"]:
        lang = "fr"
    response = make_response(redirect(safe_next(request.form.get("next")) or url_for("home.index")))
    response.set_cookie(
        "lang",
        lang,
        max_age=60 * 60 * 24 * 365,
        samesite="Lax",
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response
