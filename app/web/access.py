"""Who may reach each route: the one table every endpoint must appear in.

``enforce_access`` runs before every request and applies the table; ``check_table``
refuses to start an application that has an endpoint missing from it, so a route added
later is covered (and walked by the authorization test) automatically.

Scopes:
- ``public``: anyone, signed in or not.
- ``person``: a signed-in person, on their own records only (no ids of others in the URL).
- ``platform``: a signed-in platform superadmin.
- ``structure``: a signed-in current member of the structure named by ``structure_id`` in
  the URL, holding one of the listed roles. Objects named in the URL are then looked up
  within that structure only (a foreign id gives 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import Flask, abort, g, redirect, request, url_for
from flask_login import current_user

from app.domain.enums import Role


class Scope(StrEnum):
    PUBLIC = "public"
    PERSON = "person"
    PLATFORM = "platform"
    STRUCTURE = "structure"


@dataclass(frozen=True)
class Rule:
    scope: Scope
    roles: frozenset[Role] = frozenset()
    #: "session" (pages), "token" (API bearer token) or "capture" (API token or the
    #: page's capture token).
    auth: str = "session"


PUBLIC = Rule(Scope.PUBLIC)
PERSON = Rule(Scope.PERSON)
PLATFORM = Rule(Scope.PLATFORM)


def staff(*roles: Role, auth: str = "session") -> Rule:
    """A structure-scoped rule admitting ``roles`` (every staff role when none is given)."""
    chosen = roles or tuple(r for r in Role if r.is_staff)
    return Rule(Scope.STRUCTURE, frozenset(chosen), auth)


A, E, C, V = Role.ADMIN, Role.ENCADRANT, Role.CONSEILLER, Role.VALIDATEUR
#: The worker's own pages in a structure: about their own membership, no worker id.
WORKER = Rule(Scope.STRUCTURE, frozenset({Role.SALARIE}))

RULES: dict[str, Rule] = {
    "static": PUBLIC,
    "home.index": PUBLIC,
    "home.about_badges": PUBLIC,
    "home.set_language": PUBLIC,
    "auth.login": PUBLIC,
    "auth.logout": PUBLIC,
    # The page a printed claim QR code opens; the code is used by the sign-in POST (SHR-06).
    "auth.claim": PUBLIC,
    "referentials.index": PUBLIC,
    "referentials.show": PUBLIC,
    # Open Badges addresses: public by design, opaque ids, no personal data (BDG-09).
    "openbadges.issuer": PUBLIC,
    "openbadges.issuer_json": PUBLIC,
    "openbadges.revocations": PUBLIC,
    "openbadges.key": PUBLIC,
    "openbadges.badge_class": PUBLIC,
    "openbadges.badge_class_json": PUBLIC,
    "openbadges.criteria": PUBLIC,
    "openbadges.class_image_png": PUBLIC,
    "openbadges.class_image_svg": PUBLIC,
    "openbadges.assertion": PUBLIC,
    "openbadges.assertion_json": PUBLIC,
    "openbadges.assertion_jws": PUBLIC,
    "openbadges.baked_png": PUBLIC,
    "openbadges.baked_svg": PUBLIC,
    # The employer's verification: no account (VER-01).
    "verify.index": PUBLIC,
    "verify.upload": PUBLIC,
    "api.verify": PUBLIC,
    "api.verify_file": PUBLIC,
    # The earner's own badges, across structures, and their files (SHR-01..08).
    "portfolio.index": PERSON,
    "portfolio.badge": PERSON,
    "portfolio.badge_pdf": PERSON,
    "portfolio.passport": PERSON,
    "portfolio.export": PERSON,
    "portfolio.profile_settings": PERSON,
    # The profile a person opted in to: their chosen badges only (SHR-09).
    "portfolio.public_profile": PUBLIC,
    # A conseiller beside the earner; the choice stays theirs, and is recorded as helped.
    "portfolio.assisted": staff(C),
    "me.index": PERSON,
    "me.activity": PERSON,
    "me.secret": PERSON,
    "me.recovery_codes": PERSON,
    "platform.structures": PLATFORM,
    "platform.create_structure": PLATFORM,
    "platform.add_admin": PLATFORM,
    "staff.home": staff(),
    "staff.workers": staff(),
    "staff.worker": staff(),
    "staff.reset_code": staff(A, C),
    "staff.claim_code": staff(A, C),
    "staff.referential": staff(),
    # A worker's email and telephone, and re-issuing their badges to them (BDG-04).
    "identity.contact": staff(A, C),
    "identity.reissue": staff(A, C),
    "admin.members": staff(A),
    "admin.new_member": staff(A),
    "admin.add_existing": staff(A),
    "admin.member": staff(A),
    "admin.member_roles": staff(A),
    "admin.member_follow_up": staff(A),
    "admin.end_member": staff(A),
    "admin.teams": staff(A),
    "admin.create_team": staff(A),
    "admin.team": staff(A),
    "admin.settings": staff(A),
    "admin.competences": staff(A),
    "admin.create_competence": staff(A),
    "admin.deactivate_competence": staff(A),
    "admin.create_situation": staff(A),
    "admin.audit": staff(A),
    "admin.outbox": staff(A),
    "admin.resend_notification": staff(A, C),
    "observations.team": staff(E, C, V),
    "observations.capture": staff(E, C, V),
    "observations.record": staff(E, C, V),
    "observations.correct": staff(E, C, V),
    "observations.withdraw": staff(A, E, C, V),
    "observations.situations": staff(A, E, C),
    "observations.create_situation": staff(A, E, C),
    "observations.capture_token": staff(E, C, V),
    "me.api_tokens": PERSON,
    "me.create_api_token": PERSON,
    "me.revoke_api_token": PERSON,
    "progress.self_assessment": WORKER,
    "progress.mine": WORKER,
    "progress.set_focus": WORKER,
    "progress.comment": WORKER,
    "progress.confirm": WORKER,
    "progress.journey": staff(A, E, C, V),
    "progress.assisted": staff(C),
    "progress.reviews": staff(C),
    "assessments.queue": staff(A, V),
    "assessments.proposal": staff(A, V, C, E),
    "assessments.decide": staff(V),
    "assessments.propose": staff(C, E),
    "api.openapi": PUBLIC,
    "api.list_observations": staff(E, C, V, auth="token"),
    "api.create_observations": staff(E, C, V, auth="capture"),
    "api.correct_observation": staff(E, C, V, auth="token"),
    "api.withdraw_observation": staff(A, E, C, V, auth="token"),
}

#: Endpoints a person who must choose a new secret may still reach.
DURING_SECRET_CHANGE = {"me.secret", "auth.logout", "static", "home.set_language"}


def check_table(app: Flask) -> None:
    """Refuse to start when an endpoint has no rule, or a rule names no endpoint."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(RULES)
    stale = set(RULES) - endpoints
    if missing or stale:
        raise RuntimeError(
            f"access table out of date: missing={sorted(missing)} stale={sorted(stale)}"
        )
    for rule in app.url_map.iter_rules():
        needs_structure = RULES[rule.endpoint].scope is Scope.STRUCTURE
        if needs_structure != ("structure_id" in rule.arguments):
            raise RuntimeError(f"{rule.endpoint}: structure scope and URL disagree")


def enforce_access():  # type: ignore[no-untyped-def]
    """``before_request``: apply the table to the current request."""
    from app.extensions import db
    from app.models import Structure
    from app.queries.people import current_membership
    from app.web.api.auth import authenticate

    endpoint = request.endpoint
    if endpoint is None:  # 404 and 405 are answered by Flask itself
        return None
    rule = RULES[endpoint]
    g.structure = None
    g.membership = None
    g.user = current_user if current_user.is_authenticated else None
    if rule.scope is Scope.PUBLIC:
        return None
    if rule.auth != "session":
        g.user = authenticate(capture_allowed=rule.auth == "capture")
    elif not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    elif current_user.must_change_password and endpoint not in DURING_SECRET_CHANGE:
        return redirect(url_for("me.secret"))
    user = g.user
    if rule.scope is Scope.PERSON:
        return None
    if rule.scope is Scope.PLATFORM:
        if not user.is_superadmin:
            abort(403)
        return None
    structure_id = (request.view_args or {}).get("structure_id")
    structure = db.session.scalar(
        db.select(Structure).where(
            Structure.public_id == structure_id, Structure.deactivated_at.is_(None)
        )
    )
    if structure is None:
        abort(404)
    membership = current_membership(db.session, user, structure)
    if membership is None:
        abort(404)
    if not (membership.role_set & rule.roles):
        abort(403)
    g.structure, g.membership = structure, membership
    return None
