"""Progress use cases: self-assessments, focus, points d'étape, comments, the read log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.errors import DomainError, NotAllowed, SensitiveComment
from app.domain.progress import FORMAT_LEVELS, FORMAT_PICTOS, InvalidChoice, choices_for
from app.models import (
    AuditEvent,
    FileReadLog,
    FocusCompetence,
    Membership,
    ReviewComment,
    SelfAssessment,
    User,
)
from app.queries import progress as queries
from app.queries import referentials as referential_queries
from app.services import progress as service
from tests.support.world import NOW

LATER = NOW + timedelta(days=20)


def member(session: Session, login: str) -> Membership:
    return session.scalars(
        select(Membership).join(Membership.user).where(User.login == login)
    ).one()


def choices(session: Session, fmt: str = FORMAT_PICTOS):  # type: ignore[no-untyped-def]
    scale = referential_queries.current_scale(session)
    return choices_for(fmt, scale.payload)


def assess(session: Session, login: str = "karim", *, now=NOW, assisted_by=None, **answers):  # type: ignore[no-untyped-def]
    grid = queries.soft_skills(session)
    by_code = {c.code: c for c in grid}
    picked = {by_code[code.replace("_", "-")]: value for code, value in answers.items()}
    return service.record_self_assessment(
        session,
        worker=member(session, login),
        answers=picked or {grid[0]: "je-sais-faire"},
        choices=choices(session),
        format=FORMAT_PICTOS,
        now=now,
        assisted_by=assisted_by,
    )


def review(session: Session, worker: str = "karim", **options):  # type: ignore[no-untyped-def]
    return service.record_review(
        session,
        author=options.pop("author", None) or member(session, "sophie.cip"),
        worker=member(session, worker),
        held_on=options.pop("held_on", NOW.date()),
        next_review_on=options.pop("next_review_on", NOW.date() + timedelta(days=30)),
        next_steps=options.pop("next_steps", "Préparer le chantier de la semaine."),
        goals=options.pop("goals", []),
        adjusted=options.pop("adjusted", False),
        now=options.pop("now", NOW),
        **options,
    )


def goal(session: Session, code: str, kind: str = "professionnel", target=4, text=""):  # type: ignore[no-untyped-def]
    competence = next(c for c in queries.soft_skills(session) if c.code == code)
    return service.GoalInput(competence, kind, target, text)


# --- Self-assessment --------------------------------------------------------------------


def test_only_the_first_self_assessment_is_the_baseline(db_session):
    first = assess(db_session, organiser="je-decouvre")
    second = assess(db_session, organiser="je-sais-faire", now=LATER)
    assert (first.is_baseline, second.is_baseline) == (True, False)
    assert first.confirmed_at == NOW and first.assisted_by_id is None
    (answer,) = first.answers
    assert (answer.choice, answer.level_min, answer.level_max) == ("je-decouvre", 1, 2)
    other = assess(db_session, "julie", now=LATER)
    assert other.is_baseline  # each worker has their own baseline


def test_five_levels_store_one_level_per_answer(db_session):
    grid = queries.soft_skills(db_session)
    record = service.record_self_assessment(
        db_session,
        worker=member(db_session, "karim"),
        answers={grid[0]: "niveau-4"},
        choices=choices(db_session, FORMAT_LEVELS),
        format=FORMAT_LEVELS,
        now=NOW,
    )
    assert [(a.level_min, a.level_max) for a in record.answers] == [(4, 4)]


def test_an_assisted_self_assessment_waits_for_the_workers_own_confirmation(db_session):
    sophie = member(db_session, "sophie.cip").user
    record = assess(db_session, assisted_by=sophie)
    assert record.assisted_by_id == sophie.id and record.confirmed_at is None
    with pytest.raises(NotAllowed):
        service.confirm_self_assessment(
            db_session, record=record, worker=member(db_session, "julie"), now=LATER
        )
    assert record.confirmed_at is None
    service.confirm_self_assessment(
        db_session, record=record, worker=member(db_session, "karim"), now=LATER
    )
    assert record.confirmed_at == LATER
    assert record.assisted_by_id == sophie.id  # the flag and the confirmation are both kept
    actions = db_session.scalars(
        select(AuditEvent.action).where(AuditEvent.target == record.public_id)
    ).all()
    assert sorted(actions) == ["self_assessment.confirmed", "self_assessment.recorded"]


def test_an_empty_self_assessment_or_an_unknown_answer_is_refused(db_session):
    grid = queries.soft_skills(db_session)
    worker = member(db_session, "karim")
    refused = (
        ({}, DomainError, "Répondez au moins à une question"),
        ({grid[0]: "niveau-3"}, InvalidChoice, "pas dans la liste proposée"),
    )
    for answers, error, message in refused:
        with pytest.raises(error, match=message):
            service.record_self_assessment(
                db_session,
                worker=worker,
                answers=answers,
                choices=choices(db_session),
                format=FORMAT_PICTOS,
                now=NOW,
            )
    assert not db_session.scalars(
        select(SelfAssessment).where(SelfAssessment.worker_id == worker.id)
    ).all()


# --- Focus ------------------------------------------------------------------------------


def test_only_one_focus_is_active_and_a_new_choice_replaces_it(db_session):
    worker = member(db_session, "karim")
    grid = queries.soft_skills(db_session)
    service.set_focus(db_session, worker=worker, competence=grid[0], now=NOW)
    service.set_focus(db_session, worker=worker, competence=grid[3], now=LATER)
    rows = db_session.scalars(
        select(FocusCompetence).where(FocusCompetence.worker_id == worker.id)
    ).all()
    assert len(rows) == 1 and rows[0].competence_id == grid[3].id
    assert queries.focus(db_session, worker) is grid[3]


# --- Points d'étape ---------------------------------------------------------------------


def test_a_review_keeps_goals_steps_and_the_next_date(db_session):
    goals = [
        goal(db_session, "organiser", text="Ranger le poste seul"),
        goal(db_session, "communiquer", "accompagnement", None),
    ]
    made = review(db_session, goals=goals, adjusted=True)
    assert [(g.competence.code, g.kind, g.target_level) for g in made.goals] == [
        ("organiser", "professionnel", 4),
        ("communiquer", "accompagnement", None),
    ]
    assert made.is_adjusted and made.next_review_on == NOW.date() + timedelta(days=30)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"held_on": NOW.date() + timedelta(days=1)}, "ne peut pas être dans le futur"),
        ({"next_review_on": NOW.date()}, "doit venir après celui-ci"),
        ({"goals": "bad-kind"}, "type d'objectif est inconnu"),
        ({"goals": "bad-level"}, "niveau visé va de 1 à 5"),
        ({"goals": "twice"}, "Un seul objectif par compétence"),
        ({"next_steps": "Voir le médecin avant le chantier."}, "n'ont pas leur place ici"),
        ({"goals": "sensitive"}, "n'ont pas leur place ici"),
    ],
)
def test_a_review_that_breaks_a_rule_is_refused_in_french(db_session, options, message):
    goals = {
        "bad-kind": [goal(db_session, "organiser", kind="sanction")],
        "bad-level": [goal(db_session, "organiser", target=6)],
        "twice": [goal(db_session, "organiser"), goal(db_session, "organiser", target=5)],
        "sensitive": [goal(db_session, "organiser", text="Après sa sortie de prison")],
    }
    if isinstance(options.get("goals"), str):
        options = {**options, "goals": goals[options["goals"]]}
    with pytest.raises(DomainError, match=message):
        review(db_session, **options)


def test_a_review_held_today_in_the_structures_time_zone_is_not_in_the_future(db_session):
    # 23:30 UTC on 1 November is already 2 November in Paris (and 10:30 in Nouméa).
    late_evening_utc = NOW.replace(day=1, hour=23, minute=30)
    local_today = date(2026, 11, 2)
    with pytest.raises(DomainError):
        review(db_session, held_on=local_today, now=late_evening_utc)
    made = review(db_session, held_on=local_today, now=late_evening_utc, today=local_today)
    assert made.held_on == local_today


def test_comments_are_rows_of_their_own_and_refuse_sensitive_words(db_session):
    made = review(db_session)
    karim = member(db_session, "karim").user
    service.comment_review(db_session, review=made, author=karim, text=" D'accord  ! ", now=LATER)
    with pytest.raises(SensitiveComment):
        service.comment_review(
            db_session, review=made, author=karim, text="J'ai vu le psychologue.", now=LATER
        )
    with pytest.raises(DomainError, match="Écrivez votre commentaire"):
        service.comment_review(db_session, review=made, author=karim, text="   ", now=LATER)
    texts = db_session.scalars(
        select(ReviewComment.text).where(ReviewComment.review_id == made.id)
    ).all()
    assert texts == ["D'accord !"]


def test_due_reviews_follow_the_latest_review_of_each_worker(db_session):
    today = NOW.date()

    def day(n: int) -> date:
        return today + timedelta(days=n)

    review(db_session, "karim", held_on=day(-40), next_review_on=day(-10))
    review(db_session, "julie", held_on=today, next_review_on=day(3))
    review(db_session, "julie", held_on=today, next_review_on=day(60))
    review(db_session, "ousmane", held_on=today, next_review_on=day(5))
    review(db_session, "ousmane", held_on=day(-20), next_review_on=day(-1))
    workers = [member(db_session, login) for login in ("karim", "julie", "ousmane", "lea")]
    due = queries.due_reviews(db_session, workers, today)
    # julie's later review of the same day moved her next date away; ousmane's latest is on time.
    assert [(d.worker.user.login, d.next_review_on) for d in due] == [
        ("karim", day(-10)),
        ("ousmane", day(5)),
    ]


# --- Staff reads ------------------------------------------------------------------------


def test_a_staff_read_appends_one_row_to_the_read_log(db_session):
    count = select(func.count(FileReadLog.id))
    before = db_session.scalar(count)
    karim = member(db_session, "karim")
    sophie = member(db_session, "sophie.cip").user
    service.log_file_read(db_session, reader=sophie, worker=karim, page="parcours", now=NOW)
    assert db_session.scalar(count) == before + 1
    row = db_session.scalars(select(FileReadLog).order_by(FileReadLog.id.desc())).first()
    assert (row.reader_id, row.worker_id, row.page) == (sophie.id, karim.id, "parcours")
