"""The person's own space: their structures, activity and sign-in secret."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.domain.errors import DomainError
from app.extensions import db
from app.queries import activity as activity_queries
from app.queries import portfolio as portfolio_queries
from app.queries.people import staff_structures
from app.services import accounts, tokens
from app.web.errors import flash_error
from app.web.forms import ApiTokenForm, EmptyForm, SecretForm
from app.web.utils import now, safe_next

bp = Blueprint("me", __name__, url_prefix="/moi")


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    memberships = activity_queries.own_memberships(db.session, current_user)
    return render_template(
        "me/index.html",
        memberships=memberships,
        staff_structures=staff_structures(db.session, current_user),
        badges_to_accept=portfolio_queries.pending_count(db.session, current_user),
    )


@bp.get("/activite")
def activity():  # type: ignore[no-untyped-def]
    events = activity_queries.own_activity(db.session, current_user)
    return render_template("me/activity.html", events=events)


@bp.route("/code", methods=["GET", "POST"])
def secret():  # type: ignore[no-untyped-def]
    form = SecretForm()
    if form.validate_on_submit():
        try:
            accounts.change_own_secret(
                db.session, user=current_user, new_secret=form.new_secret.data or "", now=now()
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return render_template("me/secret.html", form=form), 400
        db.session.commit()
        flash(_("C'est enregistré. Gardez ce mot de passe ou ce code pour vous."), "success")
        return redirect(safe_next(request.args.get("next")) or url_for("home.index"))
    status = 400 if form.is_submitted() else 200
    return render_template("me/secret.html", form=form), status


@bp.route("/codes-de-secours", methods=["GET", "POST"])
def recovery_codes():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    codes: list[str] = []
    if form.validate_on_submit():
        codes = accounts.issue_recovery_codes(
            db.session,
            user=current_user,
            count=current_app.config["RECOVERY_CODES_COUNT"],
            now=now(),
        )
        db.session.commit()
    return render_template("me/recovery_codes.html", form=form, codes=codes)


@bp.get("/jetons")
def api_tokens():  # type: ignore[no-untyped-def]
    return render_template(
        "me/api_tokens.html",
        tokens=tokens.user_api_tokens(db.session, current_user),
        form=ApiTokenForm(),
        revoke_form=EmptyForm(),
        created=None,
    )


@bp.post("/jetons")
def create_api_token():  # type: ignore[no-untyped-def]
    form = ApiTokenForm()
    created = None
    status = 400
    if form.validate_on_submit():
        created = tokens.issue_api_token(
            db.session, user=current_user, label=form.label.data or "", now=now()
        )
        db.session.commit()
        status = 200
    return render_template(
        "me/api_tokens.html",
        tokens=tokens.user_api_tokens(db.session, current_user),
        form=form,
        revoke_form=EmptyForm(),
        created=created,
    ), status


@bp.post("/jetons/<token_id>/revoquer")
def revoke_api_token(token_id: str):  # type: ignore[no-untyped-def]
    token = next(
        (t for t in tokens.user_api_tokens(db.session, current_user) if t.public_id == token_id),
        None,
    )
    if token is None:
        abort(404)
    if EmptyForm().validate_on_submit() and token.revoked_at is None:
        tokens.revoke_token(db.session, token=token, actor=current_user, now=now())
        db.session.commit()
        flash(_("Le jeton est révoqué."), "success")
    return redirect(url_for("me.api_tokens"))
