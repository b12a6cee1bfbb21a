"""Platform administration (superadmin): structures and their first administrator."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.domain.enums import CodeKind, Role, StructureKind, StructureModel
from app.domain.errors import DomainError
from app.extensions import db
from app.models import Structure
from app.services import accounts
from app.services import structures as structure_service
from app.web.errors import flash_error
from app.web.forms import FirstAdminForm, StructureForm
from app.web.utils import now

bp = Blueprint("platform", __name__, url_prefix="/plateforme")


def _page(form: StructureForm, status: int = 200):  # type: ignore[no-untyped-def]
    rows = db.session.scalars(select(Structure).order_by(Structure.name)).all()
    return render_template(
        "platform/structures.html", structures=rows, form=form, admin_form=FirstAdminForm()
    ), status


@bp.get("/structures")
def structures():  # type: ignore[no-untyped-def]
    return _page(StructureForm(country="FR", timezone="Europe/Paris"))


@bp.post("/structures")
def create_structure():  # type: ignore[no-untyped-def]
    form = StructureForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        structure_service.create_structure(
            db.session,
            actor=current_user,
            name=form.name.data or "",
            now=now(),
            kind=StructureKind(form.kind.data),
            model=StructureModel(form.model.data),
            timezone=form.timezone.data or "",
            country=form.country.data or "",
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _page(form, 400)
    db.session.commit()
    flash(_("La structure est créée. Ajoutez maintenant son administrateur·rice."), "success")
    return redirect(url_for("platform.structures"))


@bp.post("/structures/<structure_ref>/admin")
def add_admin(structure_ref: str):  # type: ignore[no-untyped-def]
    structure = db.one_or_404(select(Structure).where(Structure.public_id == structure_ref))
    form = FirstAdminForm()
    if not form.validate_on_submit():
        return _page(StructureForm(), 400)
    try:
        user = accounts.create_user(
            db.session,
            first_name=form.first_name.data or "",
            last_name=form.last_name.data or "",
            email=form.email.data or None,
            now=now(),
        )
        structure_service.add_member(
            db.session,
            actor=current_user,
            structure=structure,
            user=user,
            roles={Role.ADMIN},
            now=now(),
        )
        code = accounts.issue_one_time_code(
            db.session,
            user=user,
            kind=CodeKind.INVITATION,
            now=now(),
            actor=current_user,
            structure=structure,
            valid_days=current_app.config["ONE_TIME_CODE_DAYS"],
        )
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _page(StructureForm(), 400)
    db.session.commit()
    return render_template(
        "admin/code_issued.html", person=user, code=code, back=url_for("platform.structures")
    )
