"""A re-issue racing with the earner's choices, or with itself (BDG-04, SHR-01).

Two sessions on one fresh copy of the test world, interleaved in one thread at the point
where the race bites: after one has read the badges, the other writes and commits, then the
first goes on. The engine is a plain one, without the app's ``BEGIN IMMEDIATE`` on SQLite,
so the two interleave there too (as in the claim-code race of test_notifications). On
PostgreSQL, the last tests also let a second transaction really wait on the first's lock.

Whatever the order: a badge the earner withdrew never comes back, a choice they made is
carried to the replacement or plainly refused (409), and each badge has one replacement.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.domain.badges import RevocationReason
from app.domain.consent import ConsentRefused, EarnerName
from app.models import Assertion, AuditEvent, User
from app.models.base import new_public_id
from app.services import consent, identities, revocations
from app.services.badges import Issuing
from tests.api import member
from tests.services.test_badges import URLS
from tests.services.test_identities import LATER
from tests.services.test_identities import _change as change_contact

pytestmark = pytest.mark.db

#: Where each person's badges go after staff corrected their contact details.
MOVED = {"lea": ("lea.nouvelle@exemple.fr", None), "karim": (None, "07 81 22 33 44")}


@pytest.fixture
def engine(db_factory, world_url) -> Iterator[Engine]:  # type: ignore[no-untyped-def]
    engine = create_engine(db_factory.copy(world_url))
    with Session(engine) as session:
        for login, (email, phone) in MOVED.items():
            change_contact(session, login, email=email, phone=phone)  # by Claire, at LATER
        session.commit()
    yield engine
    engine.dispose()


@pytest.fixture
def issuing(keys_dir: Path) -> Issuing:
    return Issuing(urls=URLS, keys_dir=keys_dir)


def _user(session: Session, login: str) -> User:
    return session.scalars(select(User).where(User.login == login)).one()


def _badge(session: Session, login: str, code: str) -> Assertion:
    """``login``'s badge in force for the template ``code``."""
    user = _user(session, login)
    (found,) = [
        a
        for a in session.scalars(
            select(Assertion).where(Assertion.user_id == user.id, Assertion.revoked_at.is_(None))
        )
        if a.badge_class.template.code == code
    ]
    return found


def _reissue(session: Session, login: str, issuing: Issuing) -> list[tuple[Assertion, Assertion]]:
    admin = member(session, "claire.admin")
    return identities.reissue_to_current_identity(
        session,
        user=_user(session, login),
        issuing=issuing,
        now=LATER,
        actor=admin.user,
        structure=admin.structure,
    )


def _after_the_read(monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None]) -> None:
    """Run ``meanwhile`` (another session, committed) once the re-issue has read its badges,
    before it writes anything."""
    read = identities.stale_badges

    def then_the_other_session(*args: Any, **kwargs: Any) -> list[Assertion]:
        found = read(*args, **kwargs)
        monkeypatch.setattr(identities, "stale_badges", read)  # the other one reads plainly
        meanwhile()
        return found

    monkeypatch.setattr(identities, "stale_badges", then_the_other_session)


def _versions(session: Session, proposal_id: int) -> list[Assertion]:
    """Every badge of one decision, oldest first."""
    return list(
        session.scalars(
            select(Assertion).where(Assertion.proposal_id == proposal_id).order_by(Assertion.id)
        )
    )


def _one_replacement_each(session: Session) -> None:
    """No badge replaced twice, and one badge in force per decision at most."""
    twice = session.execute(
        select(Assertion.replaces_id)
        .where(Assertion.replaces_id.is_not(None))
        .group_by(Assertion.replaces_id)
        .having(func.count() > 1)
    ).all()
    live = session.execute(
        select(Assertion.proposal_id)
        .where(Assertion.revoked_at.is_(None))
        .group_by(Assertion.proposal_id)
        .having(func.count() > 1)
    ).all()
    assert (twice, live) == ([], [])


def _actions(session: Session, target: str) -> list[str]:
    return list(
        session.scalars(
            select(AuditEvent.action).where(AuditEvent.target == target).order_by(AuditEvent.id)
        )
    )


# -- The earner acts once the re-issue has read the badges: their choice wins ------------------


def test_a_badge_withdrawn_while_the_reissue_ran_stays_withdrawn(engine, issuing, monkeypatch):
    def withdraw() -> None:
        with Session(engine) as worker:
            badge = _badge(worker, "lea", "planifier")
            consent.request_withdrawal(worker, badge, actor=_user(worker, "lea"), now=LATER)
            worker.commit()

    _after_the_read(monkeypatch, withdraw)
    with Session(engine) as staff:
        planifier = _badge(staff, "lea", "planifier")
        pairs = _reissue(staff, "lea", issuing)
        staff.commit()
        assert [old.badge_class.template.code for old, _ in pairs] == ["s-adapter"]
        proposal_id, public_id = planifier.proposal_id, planifier.public_id

    with Session(engine) as session:
        (withdrawn,) = _versions(session, proposal_id)[-1:]
        assert withdrawn.public_id == public_id  # never replaced
        assert (withdrawn.revocation_reason, withdrawn.on_profile) == ("demande_salarie", False)
        assert all(a.revoked_at is not None for a in _versions(session, proposal_id))
        assert _actions(session, public_id)[-2:] == ["badge.withdrawal_requested", "badge.revoked"]
        _one_replacement_each(session)


@pytest.mark.parametrize(
    ("login", "code", "choose", "expected"),
    [
        (
            "lea",
            "planifier",
            lambda s, a, u: consent.set_shown(s, a, actor=u, show=False, now=LATER),
            {"consent": "accepted", "on_profile": False, "earner_name": "initial"},
        ),
        (
            "lea",
            "planifier",
            lambda s, a, u: consent.set_earner_name(
                s, a, actor=u, choice=EarnerName.FULL, now=LATER
            ),
            {"consent": "accepted", "on_profile": True, "earner_name": "full"},
        ),
        (
            "karim",
            "communiquer",
            lambda s, a, u: consent.accept(s, a, actor=u, show=True, now=LATER),
            {"consent": "accepted", "on_profile": True, "earner_name": "none"},
        ),
    ],
    ids=["hide", "name", "accept"],
)
def test_a_choice_made_while_the_reissue_ran_is_carried_to_the_replacement(
    engine, issuing, monkeypatch, login, code, choose, expected
):
    def meanwhile() -> None:
        with Session(engine) as worker:
            choose(worker, _badge(worker, login, code), _user(worker, login))
            worker.commit()

    _after_the_read(monkeypatch, meanwhile)
    with Session(engine) as staff:
        old = _badge(staff, login, code)  # the copy the re-issue has in memory
        pairs = _reissue(staff, login, issuing)
        staff.commit()
        (new,) = [n for o, n in pairs if o is old]
        assert {c: getattr(new, c) for c in expected} == expected
        assert {c: getattr(old, c) for c in expected} == expected
        assert new.consent_changed_at == old.consent_changed_at == LATER
        assert old.revocation_reason == "identite_mise_a_jour"
    with Session(engine) as session:
        _one_replacement_each(session)


# -- The re-issue went first: a choice on the page loaded before is refused, not lost -----------


@pytest.mark.parametrize(
    "choose",
    [
        lambda s, a, u: consent.request_withdrawal(s, a, actor=u, now=LATER),
        lambda s, a, u: consent.set_shown(s, a, actor=u, show=False, now=LATER),
        lambda s, a, u: consent.set_earner_name(s, a, actor=u, choice=EarnerName.NONE, now=LATER),
    ],
    ids=["withdraw", "hide", "name"],
)
def test_a_choice_on_a_badge_re_issued_since_its_page_was_loaded_is_refused(
    engine, issuing, choose
):
    """Refused with words that do not let the earner believe the badge is withdrawn."""
    with Session(engine) as worker:
        seen = _badge(worker, "lea", "planifier")  # the earner's page, loaded
        seen_id = seen.id
        with Session(engine) as staff:
            pairs = _reissue(staff, "lea", issuing)
            staff.commit()
            (new_id,) = [n.public_id for o, n in pairs if o.id == seen.id]
        assert seen.revoked_at is None  # what the page showed
        history = _actions(worker, seen.public_id)
        assert history[-1] == "badge.revoked"

        with pytest.raises(ConsentRefused) as refused:
            choose(worker, seen, _user(worker, "lea"))
        assert (refused.value.status, refused.value.message) == (409, consent.REPLACED)
        worker.rollback()

    with Session(engine) as session:
        old = session.get(Assertion, seen_id)
        assert old is not None and old.revocation_reason == "identite_mise_a_jour"
        new = session.scalars(select(Assertion).where(Assertion.public_id == new_id)).one()
        assert (new.revoked_at, new.consent, new.on_profile, new.earner_name) == (
            None,
            "accepted",
            True,
            "initial",
        )
        assert _actions(session, old.public_id) == history  # nothing written by the refusal
        _one_replacement_each(session)


def test_a_stale_copy_cannot_revoke_a_badge_again(engine, issuing):
    """revoke() writes only a badge still in force in the database, whatever its copy says."""
    with Session(engine) as first:
        seen = _badge(first, "lea", "planifier")
        public_id = seen.public_id
        with Session(engine) as other:
            consent.request_withdrawal(
                other, _badge(other, "lea", "planifier"), actor=_user(other, "lea"), now=LATER
            )
            other.commit()
        with pytest.raises(revocations.RevocationError, match="déjà été retiré") as refused:
            revocations.revoke(
                first,
                seen,
                reason=RevocationReason.ISSUING_ERROR,
                now=LATER + timedelta(minutes=1),
            )
        assert refused.value.status == 409
        assert (seen.revoked_at, seen.revocation_reason) == (LATER, "demande_salarie")
        first.rollback()
    with Session(engine) as session:
        assert _actions(session, public_id).count("badge.revoked") == 1


def test_any_replacement_reads_the_choices_once_it_holds_the_badge(engine, issuing):
    """revocations.replace (also used by a key compromise) copies the choices as they are
    once its revocation went through, not as a copy loaded earlier had them."""
    with Session(engine) as staff:
        old = _badge(staff, "lea", "planifier")
        assert old.on_profile is True
        with Session(engine) as worker:
            consent.set_shown(
                worker,
                _badge(worker, "lea", "planifier"),
                actor=_user(worker, "lea"),
                show=False,
                now=LATER,
            )
            worker.commit()
        new = revocations.replace(
            staff, old, reason=RevocationReason.KEY_COMPROMISED, issuing=issuing, now=LATER
        )
        staff.commit()
        assert (new.consent, new.on_profile, new.earner_name) == ("accepted", False, "initial")


# -- Two re-issues (a double click) -------------------------------------------------------------


def test_a_double_submitted_reissue_replaces_each_badge_once(engine, issuing, monkeypatch):
    first: list[tuple[Assertion, Assertion]] = []

    def the_other_click() -> None:
        with Session(engine) as other:
            first.extend(_reissue(other, "lea", issuing))
            other.commit()

    _after_the_read(monkeypatch, the_other_click)
    with Session(engine) as staff:
        late = _reissue(staff, "lea", issuing)
        staff.commit()

    assert len(first) == 2 and late == []
    with Session(engine) as session:
        _one_replacement_each(session)
        reissued = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "badge.reissued")
        ).all()
        olds = [d["replaces"] for d in reissued]
        assert sorted(olds) == sorted({*olds}) and len(olds) >= 2


def test_the_database_refuses_a_second_replacement_and_the_reissue_says_so(engine, issuing):
    with Session(engine) as staff:
        ((old, new), _) = sorted(_reissue(staff, "lea", issuing), key=lambda p: p[0].id)
        staff.commit()
        old_id = old.id
        # A second row replacing the same badge: refused by the unique index.
        twin = {c.key: getattr(new, c.key) for c in Assertion.__table__.columns if c.key != "id"}
        staff.add(Assertion(**{**twin, "public_id": new_public_id()}))
        with pytest.raises(IntegrityError, match="replaces_id"):
            staff.flush()
        staff.rollback()

    with Session(engine) as staff:
        # A writer that skipped revoke() left the old badge in force: re-issuing it again is
        # refused by the database, and staff are told in words, nothing kept.
        staff.execute(update(Assertion).where(Assertion.id == old_id).values(revoked_at=None))
        staff.commit()
        rows = staff.scalar(select(func.count()).select_from(Assertion))
        with pytest.raises(revocations.AlreadyReplaced) as refused:
            _reissue(staff, "lea", issuing)
        assert refused.value.message == "Ces badges numériques viennent déjà d'être ré-émis."
        assert refused.value.status == 409
        staff.rollback()
        assert staff.scalar(select(func.count()).select_from(Assertion)) == rows


# -- PostgreSQL: the second transaction waits for the first's lock, then sees its outcome -------


def _waits_then(engine: Engine, second: Callable[[], Any], release: Callable[[], None]) -> Any:
    """Run ``second`` in a thread until it waits on a lock, then ``release`` the first
    transaction; return what ``second`` returned (or raise what it raised)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = second()
        except BaseException as error:  # handed back to the test below
            outcome["error"] = error

    thread = threading.Thread(target=run)
    thread.start()
    with engine.connect() as watcher:
        deadline = time.monotonic() + 30
        waiting = 0
        while not waiting and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
            waiting = watcher.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            )
            watcher.rollback()
    assert waiting, "the second transaction did not wait for the first"
    release()
    thread.join(timeout=30)
    assert not thread.is_alive()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.mark.postgresql
def test_on_postgresql_a_withdrawal_waits_for_the_reissue_then_is_refused(engine, issuing):
    with Session(engine) as staff:
        planifier_id = _badge(staff, "lea", "planifier").id
        _reissue(staff, "lea", issuing)  # holds the badges until commit

        def withdraw() -> None:
            with Session(engine) as worker:
                badge = worker.get(Assertion, planifier_id)
                try:
                    consent.request_withdrawal(worker, badge, actor=_user(worker, "lea"), now=LATER)
                finally:
                    worker.rollback()

        with pytest.raises(ConsentRefused, match="remplacé par une nouvelle version"):
            _waits_then(engine, withdraw, staff.commit)
    with Session(engine) as session:
        (_, new) = _versions(session, _proposal(session, planifier_id))
        assert (new.revoked_at, new.consent, new.on_profile) == (None, "accepted", True)
        _one_replacement_each(session)


@pytest.mark.postgresql
def test_on_postgresql_a_reissue_waits_for_a_withdrawal_then_leaves_the_badge(engine, issuing):
    with Session(engine) as worker:
        badge = _badge(worker, "lea", "planifier")
        consent.request_withdrawal(worker, badge, actor=_user(worker, "lea"), now=LATER)

        def reissue() -> list[str]:
            with Session(engine) as staff:
                pairs = _reissue(staff, "lea", issuing)
                staff.commit()
                return [old.badge_class.template.code for old, _ in pairs]

        assert _waits_then(engine, reissue, worker.commit) == ["s-adapter"]
        planifier_id = badge.id
    with Session(engine) as session:
        (withdrawn,) = _versions(session, _proposal(session, planifier_id))[-1:]
        assert (withdrawn.id, withdrawn.revocation_reason) == (planifier_id, "demande_salarie")
        _one_replacement_each(session)


@pytest.mark.postgresql
def test_on_postgresql_a_second_reissue_waits_for_the_first_then_finds_nothing(engine, issuing):
    with Session(engine) as staff:
        assert len(_reissue(staff, "lea", issuing)) == 2

        def again() -> int:
            with Session(engine) as other:
                pairs = _reissue(other, "lea", issuing)
                other.commit()
                return len(pairs)

        assert _waits_then(engine, again, staff.commit) == 0
    with Session(engine) as session:
        _one_replacement_each(session)


def _proposal(session: Session, assertion_id: int) -> int:
    found = session.get(Assertion, assertion_id)
    assert found is not None
    return found.proposal_id
