"""The test world: referentials, the demo structure (A) and a second structure (B).

Structure B has a person in every role, a team, a referent and its own competence and
situation, so that every structure-scoped route has real ids of B to be tried from A.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from app.cli.referentials import read_files
from app.domain.enums import CodeKind, Role, SituationType, StructureKind
from app.models.base import utcnow
from app.services import (
    accounts,
    consent,
    decisions,
    demo,
    notifications,
    observations,
    profiles,
    structures,
    tokens,
)
from app.services import badge_templates as badge_template_service
from app.services import referentials as referential_service
from app.services.badges import Issuing
from app.services.public_urls import PublicUrls

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STAFF_SECRET = demo.STAFF_PASSWORD
WORKER_SECRET = demo.WORKER_CODE
B_NAME = "Atelier Bois Partagé"
B_PEOPLE = {
    "b.admin": {Role.ADMIN},
    "b.encadrant": {Role.ENCADRANT},
    "b.cip": {Role.CONSEILLER},
    "b.validateur": {Role.VALIDATEUR},
    "b.salarie": {Role.SALARIE},
}


#: The base URL of the test apps (``build_config``): public badge ids derive from it.
BASE_URL = "http://localhost"


def load_referentials(session: Session) -> None:
    plan = referential_service.plan_load(session, read_files(ROOT / "referentials"))
    referential_service.apply_plan(session, plan, now=NOW, actor=None)
    templates = badge_template_service.plan_load(session, read_files(ROOT / "badge_templates"))
    badge_template_service.apply_plan(session, templates, now=NOW, actor=None)


def build(session: Session, keys_dir: Path) -> None:
    """Everything the web tests start from."""
    load_referentials(session)
    issuing = Issuing(urls=PublicUrls(BASE_URL), keys_dir=keys_dir)
    report = demo.seed(session, now=NOW, keys_dir=keys_dir, issuing=issuing)
    admin_a = next(m.user for m in report.structure.memberships if m.user.login == "claire.admin")
    referential_service.add_structure_competence(
        session,
        actor=admin_a,
        structure=report.structure,
        name="Conduite de la tondeuse",
        description="Utiliser la tondeuse autoportée en sécurité.",
        indicators=["Vérifie le niveau d'huile avant de démarrer"],
        now=NOW,
    )
    b = structures.create_structure(
        session, actor=None, name=B_NAME, now=NOW, kind=StructureKind.EI
    )
    members = {}
    for login, roles in B_PEOPLE.items():
        user = accounts.create_user(
            session,
            first_name=login.split(".")[1].title(),
            last_name="Bois",
            login=login,
            now=NOW,
            secret=WORKER_SECRET if Role.SALARIE in roles else STAFF_SECRET,
        )
        members[login] = structures.add_member(
            session, actor=None, structure=b, user=user, roles=roles, now=NOW
        )
    admin_b = members["b.admin"].user
    members["b.salarie"].referent = members["b.cip"]
    team = structures.create_team(session, actor=admin_b, structure=b, name="Menuiserie", now=NOW)
    structures.set_team_members(
        session,
        actor=admin_b,
        team=team,
        leaders=[members["b.encadrant"]],
        members=[members["b.salarie"]],
        now=NOW,
    )
    referential_service.add_structure_competence(
        session,
        actor=admin_b,
        structure=b,
        name="Ponçage",
        description="Poncer une pièce.",
        indicators=["Choisit le bon grain de papier"],
        now=NOW,
    )
    referential_service.add_structure_situation(
        session,
        actor=admin_b,
        structure=b,
        name="Fabrication d'un banc",
        type="production",
        competence_codes=["bunk:organiser"],
        now=NOW,
    )
    _observe(session, report.structure, "marc.encadrant", "karim")
    _observe(session, b, "b.encadrant", "b.salarie")
    tokens.issue_api_token(session, user=members["b.salarie"].user, label="Outil", now=NOW)
    template = badge_template_service.current(session, "travailler-en-equipe")
    decisions.propose(
        session,
        author=members["b.cip"],
        worker=members["b.salarie"],
        template=template,
        level=3,
        justification="Aide ses collègues à porter les planches sans qu'on le demande.",
        now=NOW,
    )
    _progress(session, members["b.cip"], members["b.salarie"])
    # An issued badge in B (a manual proposal, approved by someone else): public ids to walk.
    issued = decisions.propose(
        session,
        author=members["b.cip"],
        worker=members["b.salarie"],
        template=badge_template_service.current(session, "organiser"),
        level=3,
        justification="Range l'atelier en fin de journée et le signale quand il manque un outil.",
        now=NOW,
    )
    badge = decisions.approve(
        session,
        validator=members["b.validateur"],
        proposal=issued,
        comment=None,
        now=NOW,
        issuing=issuing,
    )
    # As on approval in the web: the « new badge » notification (no phone nor e-mail: in
    # person), and a claim sheet printed by the conseillère, its code recorded as a message.
    notifications.queue_badge_pending(session, assertion=badge, base_url=BASE_URL, now=NOW)
    claim = accounts.issue_one_time_code(
        session,
        user=members["b.salarie"].user,
        kind=CodeKind.CLAIM,
        now=NOW,
        actor=members["b.cip"].user,
        structure=b,
        valid_days=30,
    )
    notifications.queue_claim_code(
        session,
        user=members["b.salarie"].user,
        structure=b,
        code=claim,
        expires_at=NOW + timedelta(days=30),
        base_url=BASE_URL,
        now=NOW,
    )
    consent.accept(session, badge, actor=members["b.salarie"].user, show=True, now=NOW)
    # B's worker opted in to a public profile: its address answers, for the walks.
    profiles.set_public(session, members["b.salarie"].user, public=True, now=NOW)
    session.flush()


def _progress(session: Session, conseiller, worker) -> None:  # type: ignore[no-untyped-def]
    """A self-assessment filled in with the conseiller (waiting for the worker's
    confirmation) and a point d'étape, so that their routes have real ids of B."""
    from app.domain.progress import FORMAT_PICTOS, choices_for
    from app.queries import progress as progress_queries
    from app.queries import referentials as referential_queries
    from app.services import progress

    scale = referential_queries.current_scale(session)
    assert scale is not None
    first = progress_queries.soft_skills(session)[0]
    progress.record_self_assessment(
        session,
        worker=worker,
        answers={first: "je-sais-faire"},
        choices=choices_for(FORMAT_PICTOS, scale.payload),
        format=FORMAT_PICTOS,
        now=NOW,
        assisted_by=conseiller.user,
    )
    progress.record_review(
        session,
        author=conseiller,
        worker=worker,
        held_on=NOW.date(),
        next_review_on=NOW.date() + timedelta(days=30),
        next_steps="Préparer le prochain chantier.",
        goals=[],
        adjusted=False,
        now=NOW,
    )


def _observe(session: Session, structure, observer_login: str, worker_login: str) -> None:  # type: ignore[no-untyped-def]
    """A work situation of the observer's team, and one observation of a worker in it."""
    from app.queries import referentials as referential_queries

    by_login = {m.user.login: m for m in structure.memberships}
    observer, worker = by_login[observer_login], by_login[worker_login]
    team = next(link.team for link in worker.team_links)
    bunk = [r for r in referential_queries.current_grids(session) if r.code == "bunk"][0]
    situation = observations.create_situation(
        session,
        author=observer,
        name=f"Chantier de {team.name}",
        type=SituationType.PRODUCTION,
        starts_on=NOW.date(),
        competences=bunk.competences[:4],
        now=NOW,
        team=team,
        place="Atelier",
    )
    observations.record_capture(
        session,
        author=observer,
        situation_id=situation.public_id,
        observed_at=NOW,
        items=[
            observations.CaptureItem(
                worker.public_id, bunk.competences[0].public_id, 3, "Travail soigné et rangé."
            )
        ],
        idempotency_key=f"world-{worker_login}",
        # Recorded now (observed on NOW), so that its author can still correct it in tests.
        now=utcnow(),
    )
