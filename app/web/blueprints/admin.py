"""Structure administration: people, roles, follow-up, teams, profile, own competences."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from app.domain.enums import CodeKind, Role, StructureKind, StructureModel
from app.domain.errors import DomainError
from app.extensions import db
from app.models import Membership, Team
from app.queries import activity as activity_queries
from app.queries import people
from app.queries import referentials as referential_queries
from app.services import accounts, structures
from app.services import referentials as referential_service
from app.web.errors import flash_error
from app.web.forms import (
    CompetenceForm,
    EmptyForm,
    EndForm,
    ExistingMemberForm,
    FollowUpForm,
    NewMemberForm,
    RolesForm,
    SituationForm,
    StructureSettingsForm,
    TeamForm,
    TeamMembersForm,
)
from app.web.utils import now

bp = Blueprint("admin", __name__, url_prefix="/s/<structure_id>/admin")


def _member_or_404(member_id: str) -> Membership:
    member = db.session.scalar(
        select(Membership).where(
            Membership.public_id == member_id, Membership.structure_id == g.structure.id
        )
    )
    if member is None:
        abort(404)
    return member


def _team_or_404(team_id: str) -> Team:
    team = db.session.scalar(
        select(Team).where(Team.public_id == team_id, Team.structure_id == g.structure.id)
    )
    if team is None:
        abort(404)
    return team


def _back_to_member(member: Membership):  # type: ignore[no-untyped-def]
    return redirect(
        url_for("admin.member", structure_id=g.structure.public_id, member_id=member.public_id)
    )


# --- People ---------------------------------------------------------------------------


@bp.get("/personnes")
def members(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "admin/members.html",
        members=people.structure_members(db.session, g.structure),
        existing_form=ExistingMemberForm(),
    )


@bp.route("/personnes/nouvelle", methods=["GET", "POST"])
def new_member(structure_id: str):  # type: ignore[no-untyped-def]
    form = NewMemberForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                db.session,
                first_name=form.first_name.data or "",
                last_name=form.last_name.data or "",
                login=form.login.data or None,
                email=form.email.data or None,
                phone=form.phone.data or None,
                country=g.structure.country,
                now=now(),
            )
            structures.add_member(
                db.session,
                actor=current_user,
                structure=g.structure,
                user=user,
                roles={Role(r) for r in form.roles.data or []},
                now=now(),
                started_on=form.started_on.data,
            )
            code = accounts.issue_one_time_code(
                db.session,
                user=user,
                kind=CodeKind.INVITATION,
                now=now(),
                actor=current_user,
                structure=g.structure,
                valid_days=current_app.config["ONE_TIME_CODE_DAYS"],
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return render_template("admin/new_member.html", form=form), 400
        db.session.commit()
        return render_template(
            "admin/code_issued.html",
            person=user,
            code=code,
            back=url_for("admin.members", structure_id=structure_id),
        )
    return render_template("admin/new_member.html", form=form), 400 if form.is_submitted() else 200


@bp.post("/personnes/existante")
def add_existing(structure_id: str):  # type: ignore[no-untyped-def]
    form = ExistingMemberForm()
    if form.validate_on_submit():
        user = accounts.find_by_login(db.session, form.login.data or "")
        if user is None:
            flash(_("Aucun compte ne porte cet identifiant."), "error")
        else:
            try:
                structures.add_member(
                    db.session,
                    actor=current_user,
                    structure=g.structure,
                    user=user,
                    roles={Role(r) for r in form.roles.data or []},
                    now=now(),
                )
            except DomainError as error:
                db.session.rollback()
                flash_error(error)
            else:
                db.session.commit()
                flash(_("La personne a rejoint la structure."), "success")
                return redirect(url_for("admin.members", structure_id=structure_id))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return render_template(
        "admin/members.html",
        members=people.structure_members(db.session, g.structure),
        existing_form=form,
    ), 400


def _member_page(member: Membership, status: int = 200, **forms):  # type: ignore[no-untyped-def]
    conseillers = [
        m
        for m in people.members_with_role(db.session, g.structure, Role.CONSEILLER)
        if m.id != member.id
    ]
    follow = forms.get("follow_form") or FollowUpForm(
        referent=member.referent.public_id if member.referent else "",
        sees_all_workers=member.sees_all_workers,
    )
    follow.referent.choices = [("", _("Aucun·e"))] + [
        (m.public_id, m.user.display_name) for m in conseillers
    ]
    return render_template(
        "admin/member.html",
        member=member,
        roles_form=forms.get("roles_form") or RolesForm(roles=[r.value for r in member.role_set]),
        follow_form=follow,
        end_form=forms.get("end_form") or EndForm(ended_on=now().date()),
        code_form=EmptyForm(),
    ), status


@bp.get("/personnes/<member_id>")
def member(structure_id: str, member_id: str):  # type: ignore[no-untyped-def]
    return _member_page(_member_or_404(member_id))


@bp.post("/personnes/<member_id>/roles")
def member_roles(structure_id: str, member_id: str):  # type: ignore[no-untyped-def]
    member = _member_or_404(member_id)
    form = RolesForm()
    if form.validate_on_submit():
        try:
            structures.set_roles(
                db.session,
                actor=current_user,
                membership=member,
                roles={Role(r) for r in form.roles.data or []},
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return _member_page(_member_or_404(member_id), 400)
        db.session.commit()
        flash(_("Les rôles sont enregistrés."), "success")
        return _back_to_member(member)
    return _member_page(member, 400, roles_form=form)


@bp.post("/personnes/<member_id>/suivi")
def member_follow_up(structure_id: str, member_id: str):  # type: ignore[no-untyped-def]
    member = _member_or_404(member_id)
    form = FollowUpForm()
    referent = None
    form.referent.choices = [("", "")] + [
        (m.public_id, m.public_id)
        for m in people.members_with_role(db.session, g.structure, Role.CONSEILLER)
    ]
    if form.validate_on_submit():
        if form.referent.data:
            referent = _member_or_404(form.referent.data)
        try:
            structures.set_follow_up(
                db.session,
                actor=current_user,
                membership=member,
                referent=referent,
                sees_all_workers=form.sees_all_workers.data,
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return _member_page(_member_or_404(member_id), 400)
        db.session.commit()
        flash(_("Le suivi est enregistré."), "success")
        return _back_to_member(member)
    flash(_("Choisissez un·e conseiller·ère dans la liste."), "error")
    return _member_page(member, 400)


@bp.post("/personnes/<member_id>/fin")
def end_member(structure_id: str, member_id: str):  # type: ignore[no-untyped-def]
    member = _member_or_404(member_id)
    form = EndForm()
    if form.validate_on_submit() and form.ended_on.data:
        try:
            structures.end_membership(
                db.session,
                actor=current_user,
                membership=member,
                on=form.ended_on.data,
                now=now(),
                reminder_months=current_app.config["EXIT_REMINDER_MONTHS"],
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return _member_page(_member_or_404(member_id), 400)
        db.session.commit()
        flash(_("C'est enregistré. La personne garde son compte et son historique."), "success")
        return _back_to_member(member)
    return _member_page(member, 400, end_form=form)


# --- Teams ----------------------------------------------------------------------------


@bp.get("/equipes")
def teams(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template("admin/teams.html", form=TeamForm())


@bp.post("/equipes")
def create_team(structure_id: str):  # type: ignore[no-untyped-def]
    form = TeamForm()
    if form.validate_on_submit():
        try:
            team = structures.create_team(
                db.session,
                actor=current_user,
                structure=g.structure,
                name=form.name.data or "",
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
        else:
            db.session.commit()
            return redirect(
                url_for("admin.team", structure_id=structure_id, team_id=team.public_id)
            )
    return render_template("admin/teams.html", form=form), 400


@bp.route("/equipes/<team_id>", methods=["GET", "POST"])
def team(structure_id: str, team_id: str):  # type: ignore[no-untyped-def]
    team = _team_or_404(team_id)
    encadrants = people.members_with_role(db.session, g.structure, Role.ENCADRANT)
    salaries = people.members_with_role(db.session, g.structure, Role.SALARIE)
    form = TeamMembersForm(
        leaders=[link.membership.public_id for link in team.members if link.is_leader],
        members=[link.membership.public_id for link in team.members if not link.is_leader],
    )
    form.leaders.choices = [(m.public_id, m.user.display_name) for m in encadrants]
    form.members.choices = [(m.public_id, m.user.display_name) for m in salaries]
    if form.validate_on_submit():
        by_id = {m.public_id: m for m in encadrants + salaries}
        try:
            structures.set_team_members(
                db.session,
                actor=current_user,
                team=team,
                leaders=[by_id[i] for i in form.leaders.data or []],
                members=[by_id[i] for i in form.members.data or []],
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return render_template("admin/team.html", team=team, form=form), 400
        db.session.commit()
        flash(_("L'équipe est enregistrée."), "success")
        return redirect(url_for("admin.team", structure_id=structure_id, team_id=team_id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/team.html", team=team, form=form), status


# --- Structure profile ----------------------------------------------------------------


@bp.route("/structure", methods=["GET", "POST"])
def settings(structure_id: str):  # type: ignore[no-untyped-def]
    s = g.structure
    titles = s.role_titles or {}
    form = StructureSettingsForm(
        obj=s,
        kind=s.kind.value,
        model=s.model.value,
        **{f"title_{r.value}": titles.get(r.value, "") for r in Role},
    )
    if form.validate_on_submit():
        s.self_assessment_format = form.self_assessment_format.data or s.self_assessment_format
        s.four_eyes = bool(form.four_eyes.data)
        try:
            structures.update_structure(
                db.session,
                actor=current_user,
                structure=s,
                now=now(),
                name=form.name.data or "",
                kind=StructureKind(form.kind.data),
                model=StructureModel(form.model.data),
                timezone=form.timezone.data or "",
                country=form.country.data or "",
                email=form.email.data,
                url=form.url.data,
                role_titles={r.value: getattr(form, f"title_{r.value}").data or "" for r in Role},
                issuer=structures.IssuerProfile(
                    name=form.issuer_name.data,
                    description=form.issuer_description.data,
                    network=form.network_name.data,
                    linkedin_organization_id=form.linkedin_organization_id.data,
                ),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return render_template("admin/settings.html", form=form), 400
        warnings = structures.issuer_wording_warnings(s)
        db.session.commit()
        flash(_("Le profil de la structure est enregistré."), "success")
        if warnings:
            flash(
                _(
                    "Attention : ce que montrent les badges contient « %(terms)s », qui peut "
                    "révéler la situation des personnes. Choisissez un nom affiché neutre.",
                    terms=", ".join(warnings),
                ),
                "warning",
            )
        return redirect(url_for("admin.settings", structure_id=structure_id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/settings.html", form=form), status


# --- Own competences and situations ---------------------------------------------------


def _situation_choices(grids, local) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Soft skills of the shared grid (``bunk:code``) and the structure's own competences."""
    choices = [
        (f"{r.code}:{c.code}", c.name.get("fr", c.code))
        for r in grids
        if r.kind == "soft_skills"
        for c in r.competences
    ]
    if local:
        choices += [
            (c.code, c.name.get("fr", c.code)) for c in local.competences if not c.is_inactive
        ]
    return choices


def _competences_page(status: int = 200, competence_form=None, situation_form=None):  # type: ignore[no-untyped-def]
    local = referential_queries.structure_referential(db.session, g.structure)
    grids = referential_queries.current_grids(db.session)
    sform = situation_form or SituationForm()
    sform.competences.choices = _situation_choices(grids, local)
    cform = competence_form or CompetenceForm()
    cform.group.choices = [("", _("Sans famille"))]
    return render_template(
        "admin/competences.html",
        local=local,
        competence_form=cform,
        situation_form=sform,
        deactivate_form=EmptyForm(),
    ), status


@bp.get("/competences")
def competences(structure_id: str):  # type: ignore[no-untyped-def]
    return _competences_page()


@bp.post("/competences")
def create_competence(structure_id: str):  # type: ignore[no-untyped-def]
    form = CompetenceForm()
    form.group.choices = [("", "")]
    if form.validate_on_submit():
        try:
            referential_service.add_structure_competence(
                db.session,
                actor=current_user,
                structure=g.structure,
                name=form.name.data or "",
                description=form.description.data or "",
                indicators=(form.indicators.data or "").splitlines(),
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return _competences_page(400, competence_form=form)
        db.session.commit()
        flash(_("La compétence est ajoutée."), "success")
        return redirect(url_for("admin.competences", structure_id=structure_id))
    return _competences_page(400, competence_form=form)


@bp.post("/competences/<competence_id>/desactiver")
def deactivate_competence(structure_id: str, competence_id: str):  # type: ignore[no-untyped-def]
    competence = referential_queries.structure_competence(db.session, g.structure, competence_id)
    if competence is None:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    referential_service.deactivate_structure_competence(
        db.session, actor=current_user, structure=g.structure, competence=competence, now=now()
    )
    db.session.commit()
    flash(_("La compétence n'est plus proposée. Son historique est conservé."), "success")
    return redirect(url_for("admin.competences", structure_id=structure_id))


@bp.post("/situations")
def create_situation(structure_id: str):  # type: ignore[no-untyped-def]
    form = SituationForm()
    form.competences.choices = _situation_choices(
        referential_queries.current_grids(db.session),
        referential_queries.structure_referential(db.session, g.structure),
    )
    if form.validate_on_submit():
        try:
            referential_service.add_structure_situation(
                db.session,
                actor=current_user,
                structure=g.structure,
                name=form.name.data or "",
                type=form.type.data or "production",
                competence_codes=form.competences.data or [],
                now=now(),
            )
        except DomainError as error:
            db.session.rollback()
            flash_error(error)
            return _competences_page(400, situation_form=form)
        db.session.commit()
        flash(_("La situation de travail est ajoutée."), "success")
        return redirect(url_for("admin.competences", structure_id=structure_id))
    return _competences_page(400, situation_form=form)


# --- Audit ----------------------------------------------------------------------------


@bp.get("/journal")
def audit(structure_id: str):  # type: ignore[no-untyped-def]
    return render_template(
        "admin/audit.html", events=activity_queries.structure_activity(db.session, g.structure)
    )


# The notifications pages live in their own module, on this blueprint.
from app.web.blueprints import outbox as _outbox  # noqa: E402, F401
