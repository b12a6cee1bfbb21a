"""The demo's issued badges, earned through the real flow: observations by two people in
two situations, a proposal, an approval (and, for two of them, what happens next: a key
compromise, a withdrawal). Each is made once: a second seed finds it issued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.badges import RevocationReason
from app.domain.consent import EarnerName
from app.domain.enums import SituationType
from app.models import (
    Assertion,
    BadgeTemplate,
    Membership,
    Proposal,
    Referential,
    Structure,
    WorkSituation,
)
from app.queries import referentials as referential_queries
from app.services import consent, decisions, observations, revocations
from app.services.badges import Issuing, assertion_for


@dataclass(frozen=True)
class DemoBadge:
    """One issued demo badge, earned through the real flow: observations, proposal, approval."""

    worker: str
    competence: str  # <referential>:<code>, also the badge template's competence
    level: int
    observers: tuple[str, str]
    #: When the last observation was made, in days before the seed; approval follows a day later.
    days_ago: int
    #: An expiry chosen at approval, in days after issuance (None: no expiry).
    valid_days: int | None = None
    #: What happens next: "compromise" (the key that signed it leaks the next day: revoked,
    #: re-issued with a new key) or "revoke" (withdrawn by the validatrice, issuing error).
    then: str | None = None
    #: The earner's answer, given the day after approval and before anything else happens:
    #: "shown" (accepted, on the profile), "private" (accepted, off the profile),
    #: "declined", or "pending" (not answered yet).
    consent: str = "shown"
    #: What the badge's public page says about its earner (app.domain.consent.EarnerName).
    earner_name: str = "none"


#: Recipients: léa by email, karim by telephone, ousmane by identity URL (neither). Every
#: earner answers before anything else happens to a badge. Karim's « Qualité du travail »,
#: issued over a year ago for one year, has expired; the key that signed it leaked the next
#: day, so it was revoked and re-issued with the new key. Léa's « Anticiper » was withdrawn
#: for an issuing error. Karim has not answered yet for « Communiquer »; Léa declined
#: « S'adapter ». Ousmane keeps his badge off his profile.
DEMO_BADGES = [
    DemoBadge(
        "karim",
        "bunk:qualite-du-travail",
        3,
        ("marc.encadrant", "sophie.cip"),
        420,
        valid_days=365,
        then="compromise",
    ),
    DemoBadge(
        "lea",
        "bunk:planifier",
        3,
        ("paul.encadrant", "nadia.validatrice"),
        6,
        earner_name="initial",
    ),
    DemoBadge("karim", "bunk:conscience-professionnelle", 3, ("marc.encadrant", "sophie.cip"), 2),
    DemoBadge(
        "ousmane",
        "bunk:travailler-en-equipe",
        4,
        ("marc.encadrant", "sophie.cip"),
        5,
        consent="private",
    ),
    DemoBadge(
        "lea", "bunk:anticiper", 3, ("paul.encadrant", "nadia.validatrice"), 4, then="revoke"
    ),
    DemoBadge(
        "karim", "bunk:communiquer", 3, ("marc.encadrant", "sophie.cip"), 1, consent="pending"
    ),
    DemoBadge(
        "lea", "bunk:s-adapter", 3, ("paul.encadrant", "nadia.validatrice"), 3, consent="declined"
    ),
]
#: Workers who opted in to a public profile (it lists their "shown" badges).
DEMO_PUBLIC_PROFILES = ("lea",)
#: The demo issuer's first key dates from before every demo badge.
DEMO_KEY_AGE = timedelta(days=730)
DEMO_SITUATION_NAMES = ("Chantier de démonstration A", "Chantier de démonstration B")


def issue_demo_badges(
    session: Session,
    structure: Structure,
    memberships: dict[str, Membership],
    now: datetime,
    issuing: Issuing,
) -> list[str]:
    """Issue the demo badges that are missing (each once: a second run finds it issued)."""
    bunk = session.scalar(
        select(Referential).where(Referential.code == "bunk", Referential.superseded_at.is_(None))
    )
    if bunk is None:
        return []
    created = []
    for spec in DEMO_BADGES:
        worker = memberships[spec.worker]
        template = _template_for(session, spec.competence)
        if template is None or _has_badge(session, worker, template, spec.level):
            continue
        last = now - timedelta(days=spec.days_ago)
        first = last - timedelta(days=21)
        situations = [
            _demo_situation(session, structure, memberships, bunk, name, spec, first)
            for name in DEMO_SITUATION_NAMES
        ]
        for i, (observer, situation, when) in enumerate(
            [
                (spec.observers[0], situations[0], first),
                (spec.observers[1], situations[1], first + timedelta(days=9)),
                (spec.observers[0], situations[1], last),
            ]
        ):
            competence = next(
                c
                for c in situation.competences
                if f"{c.referential.code}:{c.code}" == spec.competence
            )
            observations.record_capture(
                session,
                author=memberships[observer],
                situation_id=situation.public_id,
                observed_at=when,
                items=[
                    observations.CaptureItem(worker.public_id, competence.public_id, spec.level)
                ],
                idempotency_key=f"demo-badge-{spec.worker}-{spec.competence}-{i}",
                now=when,
            )
        proposal = session.scalar(
            select(Proposal).where(
                Proposal.worker_id == worker.id,
                Proposal.template_id == template.id,
                Proposal.level == spec.level,
                Proposal.status == "pending",
            )
        )
        if proposal is None:
            continue
        approved_at = last + timedelta(days=1)
        decisions.approve(
            session,
            validator=memberships["nadia.validatrice"],
            proposal=proposal,
            comment=None,
            now=approved_at,
            issuing=issuing,
            expires_at=(approved_at + timedelta(days=spec.valid_days) if spec.valid_days else None),
        )
        assertion = assertion_for(session, proposal)
        assert assertion is not None
        created.append(f"badge {template.code} level {spec.level} of {spec.worker}")
        later = approved_at + timedelta(days=1)
        _answer(session, assertion, spec, now=later)
        later += timedelta(hours=1)
        if spec.then == "compromise":
            _, pairs = revocations.compromise_key(
                session, assertion.signing_key, issuing=issuing, now=later
            )
            created.append(f"key compromised: {len(pairs)} badge(s) re-issued")
        elif spec.then == "revoke":
            decisions.settle_flagged(
                session,
                validator=memberships["nadia.validatrice"],
                proposal=proposal,
                keep=False,
                reason=RevocationReason.ISSUING_ERROR.value,
                comment=None,
                now=later,
            )
            created.append(f"badge {template.code} of {spec.worker} revoked")
    for login in DEMO_PUBLIC_PROFILES:
        memberships[login].user.profile_public = True
    return created


def _answer(session: Session, assertion: Assertion, spec: DemoBadge, now: datetime) -> None:
    """The earner's own answer, through the same service as their page."""
    earner = assertion.user
    if spec.consent in ("shown", "private"):
        consent.accept(session, assertion, actor=earner, show=spec.consent == "shown", now=now)
        if spec.earner_name != EarnerName.NONE:
            consent.set_earner_name(
                session, assertion, actor=earner, choice=EarnerName(spec.earner_name), now=now
            )
    elif spec.consent == "declined":
        consent.decline(session, assertion, actor=earner, now=now)


def _template_for(session: Session, competence: str) -> BadgeTemplate | None:
    return next(
        (
            t
            for t in session.scalars(
                select(BadgeTemplate)
                .where(BadgeTemplate.superseded_at.is_(None), BadgeTemplate.kind == "competence")
                .order_by(BadgeTemplate.code)
            )
            if competence in t.competences
        ),
        None,
    )


def _has_badge(session: Session, worker: Membership, template: BadgeTemplate, level: int) -> bool:
    return (
        session.scalar(
            select(Assertion.id)
            .join(Proposal, Proposal.id == Assertion.proposal_id)
            .where(
                Assertion.worker_id == worker.id,
                Proposal.template_id == template.id,
                Proposal.level == level,
            )
        )
        is not None
    )


def _demo_situation(  # type: ignore[no-untyped-def]
    session: Session,
    structure: Structure,
    memberships: dict[str, Membership],
    bunk: Referential,
    name: str,
    spec: DemoBadge,
    starts: datetime,
) -> WorkSituation:
    """A demo situation for the worker's team, covering the badge's competence."""
    worker = memberships[spec.worker]
    team = next(t for t in structure.teams if any(m.membership_id == worker.id for m in t.members))
    label = f"{name} — {team.name}"
    found = session.scalar(
        select(WorkSituation).where(WorkSituation.team_id == team.id, WorkSituation.name == label)
    )
    refs = sorted({b.competence for b in DEMO_BADGES})
    if found is None:
        leader = next(link.membership for link in team.members if link.is_leader)
        found = observations.create_situation(
            session,
            author=leader,
            name=label,
            place=None,
            type=SituationType.PRODUCTION if name.endswith("A") else SituationType.ATELIER,
            starts_on=(starts - timedelta(days=1)).date(),
            team=team,
            now=starts - timedelta(days=1),
            competences=referential_queries.resolve_codes(session, bunk, refs),
        )
    return found
