"""Observation use cases: situations, captures (with idempotency), corrections, withdrawals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain import errors
from app.domain.enums import Role, SituationType, WithdrawalReason
from app.models import Capture, Competence, Membership, Observation, Referential, WorkSituation
from app.services import observations as service
from app.services import structures
from app.services.observations import CaptureItem
from tests.api import counts, five_worker_team, member
from tests.support.world import NOW

LATER = NOW + timedelta(hours=2)
WINDOW = timedelta(days=7)


def _situation(session: Session, login: str = "marc.encadrant") -> WorkSituation:
    """The situation of the world's capture by ``login`` (key « world-… »)."""
    observer = member(session, login)
    return session.scalars(
        select(WorkSituation)
        .join(Observation, Observation.situation_id == WorkSituation.id)
        .join(Capture, Capture.id == Observation.capture_id)
        .where(
            Observation.author_id == observer.user_id,
            Capture.idempotency_key.startswith("world-"),
        )
    ).one()


def _record(session: Session, *workers: str, key: str = "svc-key-0001", **options):  # type: ignore[no-untyped-def]
    situation = options.pop("situation", None) or _situation(session)
    competence = options.pop("competence", situation.competences[0].public_id)
    level = options.pop("level", 3)
    comment = options.pop("comment", None)
    items = [CaptureItem(member(session, w).public_id, competence, level, comment) for w in workers]
    return service.record_capture(
        session,
        author=options.pop("author", None) or member(session, "marc.encadrant"),
        situation_id=options.pop("situation_id", situation.public_id),
        observed_at=options.pop("observed_at", NOW),
        items=options.pop("items", items),
        idempotency_key=key,
        now=options.pop("now", LATER),
    )


def test_a_capture_stores_what_was_seen_when_and_by_whom(db_session):
    result = _record(db_session, "julie", level=4, comment="  Range   bien  le matériel. ")
    assert result.created
    (obs,) = result.observations
    assert (obs.level, obs.version, obs.author_role) == (4, 1, Role.ENCADRANT)
    assert obs.observed_at == NOW and obs.recorded_at == LATER
    assert obs.comment.text == "Range bien le matériel."
    assert [(v.number, v.level, v.observed_at, v.recorded_at) for v in obs.versions] == [
        (1, 4, NOW, LATER)
    ]
    assert obs.capture is result.capture and obs.worker.user.login == "julie"


def test_without_a_date_the_capture_is_dated_when_recorded(db_session):
    (obs,) = _record(db_session, "julie", observed_at=None).observations
    assert obs.observed_at == LATER == obs.recorded_at


def test_a_few_minutes_of_clock_drift_are_tolerated(db_session):
    (obs,) = _record(db_session, "julie", observed_at=LATER + timedelta(minutes=9)).observations
    assert obs.observed_at == LATER + timedelta(minutes=9)


def test_obs04_five_workers_give_five_rows_and_editing_one_leaves_the_others(db_session):
    marc = member(db_session, "marc.encadrant")
    workers = five_worker_team(db_session)
    situation = _situation(db_session)
    items = [
        CaptureItem(w.public_id, situation.competences[1].public_id, 3, "Bon rythme.")
        for w in workers
    ]
    before = counts(db_session)
    result = _record(db_session, items=items)
    assert len(result.observations) == 5
    assert len({o.worker_id for o in result.observations}) == 5
    after = counts(db_session)
    for table in ("observations", "observation_versions", "observation_comments"):
        assert after[table] == before[table] + 5
    assert after["captures"] == before["captures"] + 1

    first, *others = result.observations
    snapshot = [(o.id, o.level, o.version, o.observed_at, o.comment.text) for o in others]
    service.correct_observation(
        db_session,
        observation=first,
        editor=marc.user,
        level=5,
        observed_at=NOW,
        comment="Très bon rythme.",
        now=LATER + timedelta(hours=1),
        window=WINDOW,
    )
    db_session.expire_all()
    assert [(o.id, o.level, o.version, o.observed_at, o.comment.text) for o in others] == snapshot
    assert (first.level, first.version) == (5, 2)


def _refused(
    session: Session, error: type[errors.ObservationError], **options
) -> errors.DomainError:  # type: ignore[no-untyped-def]
    before = counts(session)
    workers = options.pop("workers", ("karim",))
    with pytest.raises(error) as caught:
        _record(session, *workers, **options)
    assert counts(session) == before
    return caught.value


@pytest.mark.parametrize("level", [0, 6, -3, True, "3", 2.0])
def test_a_level_outside_1_to_5_is_refused(db_session, level):
    failure = _refused(db_session, errors.InvalidLevel, level=level)
    assert failure.status == 422 and "1 à 5" in failure.message


def test_a_competence_outside_the_situation_is_refused(db_session):
    situation = _situation(db_session)
    listed = {c.id for c in situation.competences}
    other = db_session.scalars(
        select(Competence).join(Referential).where(Competence.id.not_in(listed))
    ).first()
    failure = _refused(db_session, errors.CompetenceNotInSituation, competence=other.public_id)
    assert "compétences observables" in failure.message


@pytest.mark.parametrize("worker", ["lea", "b.salarie", "paul.encadrant"])
def test_a_worker_outside_the_observers_teams_is_refused(db_session, worker):
    failure = _refused(db_session, errors.WorkerNotInScope, workers=(worker,))
    assert failure.status == 404 and "vos équipes" in failure.message


def test_a_worker_whose_contract_ended_is_refused(db_session):
    karim = member(db_session, "karim")
    claire = member(db_session, "claire.admin")
    structures.end_membership(
        db_session, actor=claire.user, membership=karim, on=date(2026, 11, 1), now=NOW
    )
    sophie = member(db_session, "sophie.cip")  # still karim's referent, so she sees him
    _refused(db_session, errors.WorkerNotInScope, author=sophie)


def test_a_situation_of_another_structure_or_archived_is_refused(db_session):
    b_situation = _situation(db_session, "b.encadrant")
    _refused(db_session, errors.SituationNotInScope, situation_id=b_situation.public_id)
    mine = _situation(db_session)
    mine.archived_at = NOW
    _refused(db_session, errors.SituationNotInScope)


def test_a_future_date_is_refused(db_session):
    failure = _refused(
        db_session, errors.FutureObservation, observed_at=LATER + timedelta(minutes=11)
    )
    assert "futur" in failure.message


def test_a_date_without_time_zone_is_refused(db_session):
    _refused(db_session, errors.FutureObservation, observed_at=NOW.replace(tzinfo=None))


def test_an_oversize_comment_is_refused(db_session):
    failure = _refused(db_session, errors.CommentTooLong, comment="mot " * 130)
    assert "500 caractères" in failure.message


@pytest.mark.parametrize(
    ("comment", "word"),
    [
        ("Sorti de prison le mois dernier.", "prison"),
        ("Au RSA depuis deux ans.", "RSA"),
        ("Sa dépression le fatigue.", "dépression"),
        ("PRISON puis dépression", "prison"),
    ],
)
def test_obs07_a_sensitive_word_is_flagged_and_named(db_session, comment, word):
    failure = _refused(db_session, errors.SensitiveComment, comment=comment)
    assert failure.status == 422
    assert f"« {word} »" in failure.message


def test_words_that_only_contain_a_sensitive_one_are_accepted(db_session):
    (obs,) = _record(
        db_session, "karim", comment="Il a rangé la salle de l'emprisonnement."
    ).observations
    assert obs.comment is not None


@pytest.mark.parametrize("login", ["claire.admin", "karim"])
def test_people_who_do_not_observe_cannot_record(db_session, login):
    before = counts(db_session)
    with pytest.raises(errors.NotAllowed):
        _record(db_session, "karim", author=member(db_session, login))
    assert counts(db_session) == before


@pytest.mark.parametrize("key", ["court", " " * 10, "k" * 81])
def test_the_idempotency_key_must_be_8_to_80_characters(db_session, key):
    _refused(db_session, errors.ObservationError, key=key)


def test_no_items_is_refused(db_session):
    _refused(db_session, errors.ObservationError, items=[])


def test_the_same_key_and_body_returns_the_first_capture(db_session):
    first = _record(db_session, "julie", comment="Soigneux.")
    before = counts(db_session)
    again = _record(db_session, "julie", comment="Soigneux.", now=LATER + timedelta(minutes=5))
    assert not again.created
    assert again.capture.id == first.capture.id
    assert [o.id for o in again.observations] == [o.id for o in first.observations]
    assert counts(db_session) == before


def test_a_resend_without_a_date_is_recognised_later(db_session):
    first = _record(db_session, "julie", observed_at=None)
    again = _record(db_session, "julie", observed_at=None, now=LATER + timedelta(hours=3))
    assert again.capture.id == first.capture.id and not again.created


def test_a_resend_is_recognised_even_when_what_it_names_changed_since(db_session):
    """A first send is not looked up before its insert; a resend whose checks now fail (the
    worker left) still answers the first capture, and a different body still conflicts."""
    first = _record(db_session, "julie", comment="Soigneux.")
    member(db_session, "julie").ended_on = LATER.date()
    db_session.flush()
    before = counts(db_session)
    again = _record(db_session, "julie", comment="Soigneux.", now=LATER + timedelta(minutes=5))
    assert not again.created and again.capture.id == first.capture.id
    assert counts(db_session) == before
    with pytest.raises(errors.IdempotencyConflict):
        _record(db_session, "julie", comment="Autre chose.")
    with pytest.raises(errors.WorkerNotInScope):
        _record(db_session, "julie", key="svc-key-0002")


def test_a_known_key_with_another_body_is_refused(db_session):
    _record(db_session, "julie")
    failure = _refused(db_session, errors.IdempotencyConflict, workers=("julie",), level=2)
    assert failure.status == 409 and "contenu différent" in failure.message


def test_the_same_key_is_free_for_another_author(db_session):
    sophie = member(db_session, "sophie.cip")
    result = _record(db_session, "karim", key="world-karim", author=sophie)
    assert result.created and result.observations[0].author_role == Role.CONSEILLER


def test_items_mixing_a_level_and_non_observe_for_one_worker_are_fingerprinted(db_session):
    """Regression: sorting the items compared an int with None (a 500 found by schemathesis)."""
    situation = _situation(db_session)
    karim = member(db_session, "karim").public_id
    competence = situation.competences[0].public_id
    items = [CaptureItem(karim, competence, 3), CaptureItem(karim, competence, None)]
    first = _record(db_session, items=items)
    again = _record(db_session, items=list(reversed(items)))
    assert first.created and not again.created and len(first.observations) == 2


# --- Corrections and withdrawals (OBS-09) ------------------------------------------------


def _one(db_session: Session) -> tuple[Observation, Membership]:
    marc = member(db_session, "marc.encadrant")
    (obs,) = _record(db_session, "ousmane", comment="Premier avis.").observations
    return obs, marc


def _correct(session: Session, obs: Observation, editor, now, **options):  # type: ignore[no-untyped-def]
    return service.correct_observation(
        session,
        observation=obs,
        editor=editor,
        level=options.get("level", 4),
        observed_at=options.get("observed_at", NOW - timedelta(hours=1)),
        comment=options.get("comment", "Deuxième avis."),
        now=now,
        window=options.get("window", WINDOW),
    )


def test_a_correction_adds_a_version_and_keeps_the_first(db_session):
    obs, marc = _one(db_session)
    _correct(db_session, obs, marc.user, LATER + timedelta(days=1))
    assert (obs.version, obs.level, obs.observed_at) == (2, 4, NOW - timedelta(hours=1))
    assert obs.recorded_at == LATER
    assert [(v.number, v.level) for v in obs.versions] == [(1, 3), (2, 4)]
    assert [(c.version, c.text) for c in obs.comments] == [
        (1, "Premier avis."),
        (2, "Deuxième avis."),
    ]
    assert obs.comment.text == "Deuxième avis."


@pytest.mark.parametrize("login", ["sophie.cip", "claire.admin", "nadia.validatrice"])
def test_only_the_author_may_correct(db_session, login):
    obs, _marc = _one(db_session)
    before = counts(db_session)
    with pytest.raises(errors.NotTheAuthor) as caught:
        _correct(db_session, obs, member(db_session, login).user, LATER)
    assert caught.value.status == 403
    assert counts(db_session) == before and obs.version == 1


@pytest.mark.parametrize(
    ("after", "window", "allowed"),
    [
        (timedelta(days=7), WINDOW, True),
        (timedelta(days=7, seconds=1), WINDOW, False),
        (timedelta(days=2, hours=1), timedelta(days=2), False),
    ],
)
def test_corrections_close_after_the_window(db_session, after, window, allowed):
    obs, marc = _one(db_session)
    if allowed:
        _correct(db_session, obs, marc.user, LATER + after, window=window)
        assert obs.version == 2
        return
    before = counts(db_session)
    with pytest.raises(errors.CorrectionWindowClosed):
        _correct(db_session, obs, marc.user, LATER + after, window=window)
    assert counts(db_session) == before and obs.version == 1


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"level": 7}, errors.InvalidLevel),
        ({"observed_at": LATER + timedelta(days=2)}, errors.FutureObservation),
        ({"comment": "Parle de sa dépression."}, errors.SensitiveComment),
        ({"comment": "x" * 501}, errors.CommentTooLong),
    ],
)
def test_a_bad_correction_writes_nothing(db_session, options, error):
    obs, marc = _one(db_session)
    before = counts(db_session)
    with pytest.raises(error):
        _correct(db_session, obs, marc.user, LATER + timedelta(hours=1), **options)
    assert counts(db_session) == before and obs.version == 1 and obs.level == 3


def test_withdrawal_keeps_the_row_its_history_and_its_reason(db_session):
    obs, marc = _one(db_session)
    _correct(db_session, obs, marc.user, LATER + timedelta(hours=1))
    before = counts(db_session)
    service.withdraw_observation(
        db_session, observation=obs, actor=marc, reason=WithdrawalReason.DUPLICATE, now=LATER
    )
    assert obs.is_withdrawn and obs.withdrawal_reason is WithdrawalReason.DUPLICATE
    assert obs.withdrawn_by_id == marc.user_id and obs.withdrawn_at == LATER
    after = counts(db_session)
    assert after["audit_events"] == before["audit_events"] + 1
    assert {k: v for k, v in after.items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    assert len(obs.versions) == 2 and len(obs.comments) == 2
    with pytest.raises(errors.AlreadyWithdrawn):
        service.withdraw_observation(
            db_session, observation=obs, actor=marc, reason=WithdrawalReason.ENTRY_ERROR, now=LATER
        )
    with pytest.raises(errors.AlreadyWithdrawn):
        _correct(db_session, obs, marc.user, LATER + timedelta(hours=2))
    assert obs.withdrawal_reason is WithdrawalReason.DUPLICATE


def test_an_admin_may_withdraw_but_another_observer_may_not(db_session):
    obs, _marc = _one(db_session)
    with pytest.raises(errors.NotTheAuthor) as caught:
        service.withdraw_observation(
            db_session,
            observation=obs,
            actor=member(db_session, "sophie.cip"),
            reason=WithdrawalReason.DUPLICATE,
            now=LATER,
        )
    assert caught.value.status == 403 and "administrateur" in caught.value.message
    assert not obs.is_withdrawn
    service.withdraw_observation(
        db_session,
        observation=obs,
        actor=member(db_session, "claire.admin"),
        reason=WithdrawalReason.WORKER_REQUEST,
        now=LATER,
    )
    assert obs.withdrawal_reason is WithdrawalReason.WORKER_REQUEST


# --- Work situations ---------------------------------------------------------------------


def _new_situation(session: Session, **options):  # type: ignore[no-untyped-def]
    marc = member(session, "marc.encadrant")
    competences = _situation(session).competences
    return service.create_situation(
        session,
        author=options.pop("author", marc),
        name=options.pop("name", "Taille des haies"),
        type=SituationType.PRODUCTION,
        starts_on=options.pop("starts_on", NOW.date()),
        competences=options.pop("competences", competences[:2]),
        now=NOW,
        **options,
    )


def test_a_situation_belongs_to_its_authors_structure(db_session):
    team = next(link.team for link in member(db_session, "karim").team_links)
    situation = _new_situation(db_session, place=" Parc ", team=team)
    assert situation.structure_id == member(db_session, "marc.encadrant").structure_id
    assert situation.place == "Parc" and len(situation.competences) == 2


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"name": "   "}, "Donnez un nom"),
        ({"name": "Chantier d'insertion du parc"}, "« chantier d'insertion »"),
        ({"place": "Maison d'arrêt, prison"}, "« prison »"),
        ({"ends_on": NOW.date() - timedelta(days=1)}, "La date de fin"),
        ({"competences": []}, "au moins une compétence"),
    ],
)
def test_a_bad_situation_is_refused_in_french(db_session, options, words):
    before = db_session.scalar(select(WorkSituation.id).order_by(WorkSituation.id.desc()))
    with pytest.raises(errors.ObservationError) as caught:
        _new_situation(db_session, **options)
    assert words.lower() in caught.value.message.lower()
    assert db_session.scalar(select(WorkSituation.id).order_by(WorkSituation.id.desc())) == before


def test_a_situation_cannot_name_a_team_of_another_structure(db_session):
    b_team = next(link.team for link in member(db_session, "b.salarie").team_links)
    with pytest.raises(errors.SituationNotInScope):
        _new_situation(db_session, team=b_team)
