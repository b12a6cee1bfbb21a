"""Structures, memberships, roles, referents and teams."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import sharing, wording
from app.domain.enums import Role, StructureKind, StructureModel
from app.domain.errors import StructureError
from app.models import Membership, MembershipRole, Structure, Team, TeamMember, User
from app.services import audit, exit_reminders


def _check_place(timezone: str, country: str) -> tuple[str, str]:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise StructureError("Ce fuseau horaire est inconnu (exemple : Europe/Paris).") from exc
    country = country.strip().upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise StructureError("Ce code pays est inconnu (exemple : FR, BE, IT).")
    return timezone, country


def create_structure(
    session: Session,
    *,
    actor: User | None,
    name: str,
    now: datetime,
    kind: StructureKind = StructureKind.OTHER,
    model: StructureModel = StructureModel.TREMPLIN,
    timezone: str = "Europe/Paris",
    country: str = "FR",
) -> Structure:
    """A new structure (platform superadmin only, checked by the caller)."""
    if not name.strip():
        raise StructureError("Donnez un nom à la structure.")
    timezone, country = _check_place(timezone, country)
    structure = Structure(
        name=name.strip(),
        kind=kind,
        model=model,
        timezone=timezone,
        country=country,
        created_at=now,
    )
    session.add(structure)
    session.flush()
    audit.record(
        session,
        action="structure.created",
        now=now,
        actor=actor,
        structure=structure,
        target=structure.public_id,
    )
    return structure


@dataclass(frozen=True)
class IssuerProfile:
    """What badges show of the structure: a display name, a description, its network, and
    its LinkedIn page id (digits), used by « Ajouter à LinkedIn » (SHR-04)."""

    name: str | None
    description: str | None
    network: str | None
    linkedin_organization_id: str | None = None


def issuer_wording_warnings(structure: Structure) -> list[str]:
    """Blocked terms (REQUIREMENTS §5) in what badges show of the structure.

    In an issuer profile they warn the admin, who chooses the display name; they do not
    refuse the change (the structure's legal name may hold such a word).
    """
    shown = (
        structure.issuer_display_name,
        structure.issuer_description or "",
        structure.network_name or "",
    )
    return sorted({t for text in shown for t in wording.blocked_terms(text)})


def update_structure(
    session: Session,
    *,
    actor: User,
    structure: Structure,
    now: datetime,
    name: str,
    kind: StructureKind,
    model: StructureModel,
    timezone: str,
    country: str,
    email: str | None,
    url: str | None,
    role_titles: dict[str, str] | None = None,
    issuer: IssuerProfile | None = None,
) -> None:
    """Change a structure's profile; role titles rename roles, never permissions.

    ``issuer`` sets how the structure appears as an Open Badges issuer (BDG-01).
    """
    if not name.strip():
        raise StructureError("Donnez un nom à la structure.")
    linkedin = ((issuer.linkedin_organization_id if issuer else None) or "").strip() or None
    if linkedin is not None and not sharing.is_linkedin_organization_id(linkedin):
        raise StructureError(
            "L'identifiant LinkedIn de la structure ne contient que des chiffres "
            "(exemple : 12345678)."
        )
    structure.timezone, structure.country = _check_place(timezone, country)
    structure.name, structure.kind, structure.model = name.strip(), kind, model
    structure.email, structure.url = email or None, url or None
    if issuer is not None:
        structure.issuer_name = (issuer.name or "").strip() or None
        structure.issuer_description = (issuer.description or "").strip() or None
        structure.network_name = (issuer.network or "").strip() or None
        structure.linkedin_organization_id = linkedin
    if role_titles is not None:
        structure.role_titles = {
            r.value: role_titles[r.value].strip()
            for r in Role
            if role_titles.get(r.value, "").strip()
        }
    session.flush()
    audit.record(
        session,
        action="structure.updated",
        now=now,
        actor=actor,
        structure=structure,
        target=structure.public_id,
    )


def add_member(
    session: Session,
    *,
    actor: User | None,
    structure: Structure,
    user: User,
    roles: Iterable[Role],
    now: datetime,
    started_on: date | None = None,
) -> Membership:
    """Give ``user`` a membership of ``structure`` (or reopen an ended one) with ``roles``."""
    roles = set(roles)
    if not roles:
        raise StructureError("Choisissez au moins un rôle.")
    membership = session.scalar(
        select(Membership).where(
            Membership.user_id == user.id, Membership.structure_id == structure.id
        )
    )
    if membership is not None and membership.is_current:
        raise StructureError("Cette personne fait déjà partie de la structure.")
    if membership is None:
        membership = Membership(user=user, structure=structure, created_at=now)
        session.add(membership)
    membership.ended_on = None
    membership.started_on = started_on or now.date()
    session.flush()
    _replace_roles(membership, roles)
    session.flush()
    audit.record(
        session,
        action="membership.started",
        now=now,
        actor=actor,
        structure=structure,
        subject=user,
        details={"roles": sorted(r.value for r in roles)},
    )
    return membership


def _replace_roles(membership: Membership, roles: set[Role]) -> None:
    current = {r.role: r for r in membership.roles}
    for role, link in current.items():
        if role not in roles:
            membership.roles.remove(link)
    for role in roles - set(current):
        membership.roles.append(MembershipRole(role=role))


def set_roles(
    session: Session, *, actor: User, membership: Membership, roles: Iterable[Role], now: datetime
) -> None:
    """Replace a member's roles; an admin cannot remove the last admin of a structure."""
    roles = set(roles)
    if not roles:
        raise StructureError("Choisissez au moins un rôle.")
    if Role.ADMIN in membership.role_set and Role.ADMIN not in roles:
        _refuse_last_admin(session, membership)
    _replace_roles(membership, roles)
    session.flush()
    audit.record(
        session,
        action="membership.roles_changed",
        now=now,
        actor=actor,
        structure=membership.structure,
        subject=membership.user,
        details={"roles": sorted(r.value for r in roles)},
    )


def _refuse_last_admin(session: Session, membership: Membership) -> None:
    admins = session.scalars(
        select(Membership.id)
        .join(MembershipRole)
        .where(
            Membership.structure_id == membership.structure_id,
            Membership.ended_on.is_(None),
            MembershipRole.role == Role.ADMIN,
        )
    ).all()
    if set(admins) <= {membership.id}:
        raise StructureError("La structure doit garder au moins un·e administrateur·rice.")


def set_follow_up(
    session: Session,
    *,
    actor: User,
    membership: Membership,
    referent: Membership | None,
    sees_all_workers: bool,
    now: datetime,
) -> None:
    """Set a worker's referent conseiller, and whether a staff member sees every worker."""
    if referent is not None:
        if referent.structure_id != membership.structure_id or not referent.is_current:
            raise StructureError("Ce·tte référent·e ne fait pas partie de la structure.")
        if not referent.has_role(Role.CONSEILLER):
            raise StructureError("Le ou la référent·e doit avoir le rôle conseiller·ère.")
        if referent.id == membership.id:
            raise StructureError("Une personne ne peut pas être sa propre référente.")
    membership.referent = referent
    membership.sees_all_workers = sees_all_workers
    session.flush()
    audit.record(
        session,
        action="membership.follow_up_changed",
        now=now,
        actor=actor,
        structure=membership.structure,
        subject=membership.user,
        details={
            "referent": referent.public_id if referent else None,
            "sees_all": sees_all_workers,
        },
    )


def end_membership(
    session: Session,
    *,
    actor: User,
    membership: Membership,
    on: date,
    now: datetime,
    reminder_months: Sequence[int] = (),
) -> None:
    """End a contract or a staff member's place: the account and its history stay.

    A worker's exit schedules a reminder ``reminder_months`` after ``on`` (SHR-11; the
    web passes ``JALON_EXIT_REMINDER_MONTHS``), see ``app.services.exit_reminders``.
    """
    if not membership.is_current:
        raise StructureError("Cette personne a déjà quitté la structure.")
    if Role.ADMIN in membership.role_set:
        _refuse_last_admin(session, membership)
    membership.ended_on = on
    for link in list(membership.team_links):
        session.delete(link)
    session.flush()
    audit.record(
        session,
        action="membership.ended",
        now=now,
        actor=actor,
        structure=membership.structure,
        subject=membership.user,
        details={"on": on.isoformat()},
    )
    exit_reminders.schedule(session, membership=membership, months=reminder_months, now=now)


def create_team(
    session: Session, *, actor: User, structure: Structure, name: str, now: datetime
) -> Team:
    """A new team in ``structure``; names are unique within a structure."""
    name = name.strip()
    if not name:
        raise StructureError("Donnez un nom à l'équipe.")
    exists = session.scalar(
        select(Team.id).where(Team.structure_id == structure.id, Team.name == name)
    )
    if exists is not None:
        raise StructureError("Une équipe porte déjà ce nom.")
    team = Team(structure=structure, name=name, created_at=now)
    session.add(team)
    session.flush()
    audit.record(
        session,
        action="team.created",
        now=now,
        actor=actor,
        structure=structure,
        target=team.public_id,
    )
    return team


def set_team_members(
    session: Session,
    *,
    actor: User,
    team: Team,
    leaders: Iterable[Membership],
    members: Iterable[Membership],
    now: datetime,
) -> None:
    """Replace a team's encadrants (leaders) and workers (members)."""
    wanted: dict[int, tuple[Membership, bool]] = {}
    for m in members:
        if not m.has_role(Role.SALARIE):
            raise StructureError("Seul·es les salarié·es peuvent être membres d'une équipe.")
        wanted[m.id] = (m, False)
    for m in leaders:
        if not m.has_role(Role.ENCADRANT):
            raise StructureError("Seul·es les encadrant·es peuvent mener une équipe.")
        wanted[m.id] = (m, True)
    for m, _ in wanted.values():
        if m.structure_id != team.structure_id or not m.is_current:
            raise StructureError("Cette personne ne fait pas partie de la structure.")
    for link in list(team.members):
        if link.membership_id not in wanted:
            team.members.remove(link)
    existing = {link.membership_id: link for link in team.members}
    for mid, (m, leader) in wanted.items():
        if mid in existing:
            existing[mid].is_leader = leader
        else:
            team.members.append(TeamMember(membership=m, is_leader=leader))
    session.flush()
    audit.record(
        session,
        action="team.members_changed",
        now=now,
        actor=actor,
        structure=team.structure,
        target=team.public_id,
        details={"count": len(wanted)},
    )
