"""Sign-in with an identifier and a password, a short code or a one-time code; the page a
printed claim QR code opens."""

from __future__ import annotations

import secrets

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.extensions import db, limiter
from app.services import accounts, audit, tokens
from app.web.blueprints.home import home_url_for
from app.web.forms import ClaimForm, EmptyForm, LoginForm
from app.web.utils import now, safe_next

bp = Blueprint("auth", __name__)


def _login_key() -> str:
    """Throttle per identifier too, so that spreading guesses over addresses does not help."""
    return "login:" + (request.form.get("login") or "").strip().lower()[:254]


def _login_limit() -> str:
    return str(current_app.config["LOGIN_RATE_LIMIT"])


@bp.route("/connexion", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_key)
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_url_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        result = accounts.authenticate(
            db.session, login=form.login.data or "", secret=form.secret.data or "", now=now()
        )
        if result is None:
            db.session.rollback()
            flash(_("Identifiant ou code incorrect. Vérifiez et réessayez."), "error")
            return render_template("auth/login.html", form=form), 400
        session.clear()
        login_user(result.user)
        session["capture_nonce"] = secrets.token_urlsafe(16)
        audit.record(
            db.session, action="auth.signed_in", now=now(), actor=result.user, subject=result.user
        )
        db.session.commit()
        if result.user.must_change_password:
            flash(_("Bienvenue ! Choisissez maintenant un mot de passe ou un code à vous."), "info")
            return redirect(url_for("me.secret", next=safe_next(request.args.get("next"))))
        return redirect(safe_next(request.args.get("next")) or home_url_for(result.user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def _claim_key() -> str:
    return "claim:" + (request.args.get("identifiant") or "").strip().lower()[:254]


def _badges_url() -> str:
    """Where a worker lands after claiming: their badges (/moi/badges)."""
    return url_for("portfolio.index")


@bp.get("/connexion/retrait")
@limiter.limit(_login_limit)
@limiter.limit(_login_limit, key_func=_claim_key)
def claim():  # type: ignore[no-untyped-def]
    """The page a claim QR code opens: identifier and code filled in, posted to sign-in.

    A GET never uses the code up (link previews and scanners open links): it is used by
    the sign-in form's POST. The code is in the address, so the page is neither cached
    nor named to other sites (Referrer-Policy).
    """
    form = ClaimForm(
        data={
            "login": (request.args.get("identifiant") or "")[:254],
            "secret": (request.args.get("code") or "")[:200],
        }
    )
    page = render_template(
        "auth/claim.html", form=form, action=url_for("auth.login", next=_badges_url())
    )
    response = make_response(page)
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/deconnexion")
def logout():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        if session.get("capture_nonce"):
            tokens.revoke_session_tokens(
                db.session, user=current_user, session_nonce=session["capture_nonce"], now=now()
            )
            db.session.commit()
        logout_user()
        session.clear()
        flash(_("Vous êtes déconnecté·e. À bientôt !"), "info")
    return redirect(url_for("home.index"))
