"""Observation pages: quick capture, refusals, corrections, withdrawals, history, time zone."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.extensions import db
from app.models import Competence, Observation
from tests.api import Place, app_counts, five_worker_team, place, sign_in


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def _form(p: Place, *workers: str, **fields: str | list[str]) -> dict[str, str | list[str]]:
    data: dict[str, str | list[str]] = {
        "w": [p.workers[w] for w in workers],
        "idempotency_key": PAGE_KEY,
        "situation": p.situation,
        "competence": p.competences[1],
        "level": "3",
        "comment": "",
        "observed_at": "",
    }
    data.update(fields)
    return data


@pytest.fixture
def marc(world_app: Flask) -> tuple[Flask, Place, FlaskClient]:
    return world_app, place(world_app, "marc.encadrant"), sign_in(world_app, "marc.encadrant")


PAGE_KEY = "page-key-0001"


def _observations(app: Flask, *, worker: str | None = None, public_id: str | None = None):  # type: ignore[no-untyped-def]
    """What is stored, read into plain objects (oldest first): the observations of the
    page's capture (key ``PAGE_KEY``) for ``worker``, or the one named ``public_id``."""
    query = select(Observation).order_by(Observation.id)
    if public_id is not None:
        query = query.where(Observation.public_id == public_id)
    else:
        query = query.where(
            Observation.worker.has(public_id=worker),
            Observation.capture.has(idempotency_key=PAGE_KEY),
        )
    with app.app_context():
        return [
            SimpleNamespace(
                level=o.level,
                version=o.version,
                observed_at=o.observed_at,
                recorded_at=o.recorded_at,
                comment=o.comment.text if o.comment else None,
                competence=o.competence.public_id,
                withdrawal_reason=o.withdrawal_reason,
                is_withdrawn=o.is_withdrawn,
            )
            for o in db.session.scalars(query)
        ]


def test_the_capture_form_shows_the_situations_competences_and_a_fresh_key(marc):
    app, p, browser = marc
    page = browser.get(f"/s/{p.structure}/saisie", query_string={"w": p.workers["karim"]})
    assert page.status_code == 200
    text = _text(page)
    assert "Observer Karim Benali" in text and "Chantier de Espaces verts" in text
    assert all(f'value="{c}"' in text for c in p.competences)
    keys = {
        re.search(
            r'name="idempotency_key"[^>]*value="([^"]+)"',
            _text(browser.get(page.request.full_path)),
        ).group(1)
        for _ in range(2)
    }
    assert len(keys) == 2


def test_a_capture_from_the_page_is_stored_with_the_local_time_as_utc(marc):
    app, p, browser = marc
    before = app_counts(app)
    response = browser.post(
        f"/s/{p.structure}/saisie",
        data=_form(p, "julie", observed_at="2026-11-02T10:00", comment="Aide les autres."),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{p.structure}/equipe"
    assert "Observation enregistrée." in _text(browser.get(response.headers["Location"]))
    after = app_counts(app)
    assert after["observations"] == before["observations"] + 1
    (obs,) = _observations(app, worker=p.workers["julie"])
    # 10:00 in Paris in November is 09:00 UTC; it was recorded later, at the real time.
    assert obs.observed_at == datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    assert obs.recorded_at > obs.observed_at
    assert obs.level == 3 and obs.comment == "Aide les autres."


def test_a_double_submit_records_once(marc):
    app, p, browser = marc
    data = _form(p, "julie", observed_at="2026-11-02T10:00")
    assert browser.post(f"/s/{p.structure}/saisie", data=data).status_code == 302
    before = app_counts(app)
    assert browser.post(f"/s/{p.structure}/saisie", data=data).status_code == 302
    assert app_counts(app) == before


def test_obs04_five_workers_on_one_form_give_five_rows_and_one_can_be_adjusted(marc):
    app, p, browser = marc
    with app.app_context():
        ids = [m.public_id for m in five_worker_team(db.session)]
        db.session.commit()
    page = browser.get(f"/s/{p.structure}/saisie", query_string={"w": ids})
    assert "Observer 5 personnes" in _text(page)
    before = app_counts(app)
    data = _form(p, observed_at="2026-11-02T10:00")
    data["w"] = ids
    data[f"level_{ids[4]}"] = "5"
    response = browser.post(f"/s/{p.structure}/saisie", data=data)
    assert response.status_code == 302
    assert "5 observations enregistrées." in _text(browser.get(response.headers["Location"]))
    after = app_counts(app)
    assert after["observations"] == before["observations"] + 5
    assert after["captures"] == before["captures"] + 1
    levels = [o.level for i in ids for o in _observations(app, worker=i)]
    assert levels == [3, 3, 3, 3, 5]


def _refused(
    app: Flask, browser: FlaskClient, p: Place, data: dict, status: int, *words: str
) -> str:  # type: ignore[type-arg]
    before = app_counts(app)
    response = browser.post(f"/s/{p.structure}/saisie", data=data)
    assert response.status_code == status
    text = _text(response)
    for word in words:
        assert word in text
    assert app_counts(app) == before, "a refused capture must write nothing"
    return text


@pytest.mark.parametrize("level", ["9", "0", "trois"])
def test_a_level_outside_the_scale_is_refused_on_the_page(marc, level):
    app, p, browser = marc
    _refused(app, browser, p, _form(p, "karim", level=level), 400, "N'est pas un choix valide.")


def test_a_competence_outside_the_situation_is_refused_on_the_page(marc, world_app):
    app, p, browser = marc
    with world_app.app_context():
        poncage = db.session.scalars(select(Competence)).all()
        b_competence = next(c.public_id for c in poncage if c.name.get("fr") == "Ponçage")
    for competence in ("inconnue", b_competence):
        data = _form(p, "karim", competence=competence)
        _refused(app, browser, p, data, 400, "N'est pas un choix valide.")


@pytest.mark.parametrize("worker", ["lea", "b.salarie"])
def test_a_worker_of_another_team_or_structure_is_refused_on_the_page(marc, world_app, worker):
    app, p, browser = marc
    worker_id = p.workers.get(worker) or place(world_app, "b.encadrant").workers[worker]
    data = _form(p)
    data["w"] = [p.workers["karim"], worker_id]
    _refused(app, browser, p, data, 404, "ne fait pas partie de vos équipes")
    assert browser.get(f"/s/{p.structure}/saisie", query_string={"w": worker_id}).status_code == 404


def test_a_future_date_is_refused_on_the_page(marc):
    app, p, browser = marc
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    text = _refused(
        app,
        browser,
        p,
        _form(p, "karim", observed_at=tomorrow),
        422,
        "La date d'observation ne peut pas être dans le futur.",
    )
    assert 'name="idempotency_key"' in text  # the form comes back, ready to fix


def test_an_oversize_comment_is_refused_on_the_page(marc):
    app, p, browser = marc
    _refused(
        app, browser, p, _form(p, "karim", comment="Bien. " * 90), 400, "500 caractères au plus."
    )


@pytest.mark.parametrize("word", ["prison", "RSA", "dépression"])
def test_obs07_a_sensitive_word_is_flagged_on_the_page_and_nothing_stored(marc, word):
    app, p, browser = marc
    text = _refused(
        app,
        browser,
        p,
        _form(p, "karim", comment=f"Il parle de {word} souvent."),
        422,
        f"« {word} »",
        "Pas d'information de santé",
    )
    assert f"Il parle de {word} souvent." in text  # what was typed is not lost


def test_a_known_key_with_another_body_is_refused_on_the_page(marc):
    app, p, browser = marc
    assert browser.post(f"/s/{p.structure}/saisie", data=_form(p, "karim")).status_code == 302
    _refused(app, browser, p, _form(p, "karim", level="4"), 409, "contenu différent")


# --- History, corrections, withdrawals ---------------------------------------------------


def _worker_page(app: Flask, login: str, p: Place, worker: str = "karim") -> str:
    browser = sign_in(app, login)
    response = browser.get(f"/s/{p.structure}/salaries/{p.workers[worker]}")
    assert response.status_code == 200
    return _text(response)


def test_the_worker_page_shows_the_observation_in_the_structures_time_zone(marc):
    app, p, _browser = marc
    text = _worker_page(app, "sophie.cip", p)
    # Observed at 09:00 UTC on 2 November: 10:00 in Paris (winter time).
    assert "02/11/2026 à 10:00" in text and "02/11/2026 à 09:00" not in text
    assert "Travail soigné et rangé." in text and "Marc Lefèvre" in text


def _clocked(world_app_with, after_recording: timedelta):  # type: ignore[no-untyped-def]
    clock: dict[str, datetime] = {}
    app = world_app_with(NOW=lambda: clock["now"])
    p = place(app, "marc.encadrant")
    clock["now"] = p.recorded_at + after_recording
    return app, p


def test_the_author_corrects_and_staff_see_both_versions(world_app_with):
    app, p = _clocked(world_app_with, timedelta(days=1))
    browser = sign_in(app, "marc.encadrant")
    url = f"/s/{p.structure}/observations/{p.observation}/corriger"
    form = _text(browser.get(url))
    assert 'value="2026-11-02T10:00"' in form  # the local time, ready to edit
    response = browser.post(
        url, data={"level": "4", "observed_at": "2026-11-02T10:30", "comment": "Soigné."}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{p.structure}/salaries/{p.workers['karim']}"
    (obs,) = _observations(app, public_id=p.observation)
    assert (obs.version, obs.level) == (2, 4)
    assert obs.observed_at == datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    for login in ("marc.encadrant", "sophie.cip", "claire.admin", "nadia.validatrice"):
        text = _worker_page(app, login, p)
        assert "Historique (2 versions)" in text, login
        assert "Version 1" in text and "Version 2" in text
        assert "observé le 02/11/2026 à 10:00" in text and "observé le 02/11/2026 à 10:30" in text
        assert "corrigée" in text


def test_someone_else_cannot_correct_on_the_page(world_app_with):
    app, p = _clocked(world_app_with, timedelta(hours=1))
    sophie = sign_in(app, "sophie.cip")
    assert "Corriger" not in _worker_page(app, "sophie.cip", p).split("Observations", 1)[1]
    before = app_counts(app)
    response = sophie.post(
        f"/s/{p.structure}/observations/{p.observation}/corriger",
        data={"level": "1", "observed_at": "2026-11-02T10:00"},
    )
    assert response.status_code == 403
    assert "Seule la personne qui a fait l'observation peut la corriger." in _text(response)
    assert app_counts(app) == before


def test_after_the_window_the_correction_is_refused_on_the_page(world_app_with):
    app, p = _clocked(world_app_with, timedelta(days=8))
    browser = sign_in(app, "marc.encadrant")
    page = _worker_page(app, "marc.encadrant", p)
    assert "/corriger" not in page and "Retirer cette observation" in page
    before = app_counts(app)
    response = browser.post(
        f"/s/{p.structure}/observations/{p.observation}/corriger",
        data={"level": "1", "observed_at": "2026-11-02T10:00"},
    )
    assert response.status_code == 422
    assert "Le délai pour corriger cette observation est passé." in _text(response)
    assert app_counts(app) == before


def test_withdrawal_from_the_page_keeps_the_observation_and_its_reason(marc):
    app, p, browser = marc
    response = browser.post(
        f"/s/{p.structure}/observations/{p.observation}/retrait",
        data={"reason": "mauvaise_personne"},
    )
    assert response.status_code == 302
    text = _text(browser.get(response.headers["Location"]))
    assert "L'observation est retirée. Elle reste dans l'historique." in text
    assert "Retirée : Mauvaise personne" in text
    (obs,) = _observations(app, public_id=p.observation)
    assert obs.withdrawal_reason.value == "mauvaise_personne" and obs.comment is not None
    assert obs.version == 1
    assert "Retirée : Mauvaise personne" in _worker_page(app, "sophie.cip", p)


def test_a_withdrawal_needs_a_listed_reason_and_the_right_person(marc):
    app, p, browser = marc
    url = f"/s/{p.structure}/observations/{p.observation}/retrait"
    sophie = sign_in(app, "sophie.cip")
    before = app_counts(app)
    response = browser.post(url, data={"reason": "pas_envie"})
    assert response.status_code == 302
    assert "Choisissez une raison dans la liste." in _text(
        browser.get(response.headers["Location"])
    )
    response = sophie.post(url, data={"reason": "doublon"})
    assert "ou un·e administrateur·rice" in _text(sophie.get(response.headers["Location"]))
    assert app_counts(app) == before
    (obs,) = _observations(app, public_id=p.observation)
    assert not obs.is_withdrawn


def test_other_encadrants_and_other_structures_cannot_reach_the_observation(world_app):
    p = place(world_app, "marc.encadrant")
    paul = sign_in(world_app, "paul.encadrant")
    b_staff = sign_in(world_app, "b.encadrant")
    before = app_counts(world_app)
    base = f"/s/{p.structure}/observations/{p.observation}"
    assert paul.get(f"{base}/corriger").status_code == 404
    assert paul.post(f"{base}/retrait", data={"reason": "doublon"}).status_code == 404
    assert b_staff.post(f"{base}/retrait", data={"reason": "doublon"}).status_code == 404
    b_url = f"/s/{place(world_app, 'b.encadrant').structure}/observations/{p.observation}/retrait"
    assert b_staff.post(b_url, data={"reason": "doublon"}).status_code == 404
    assert app_counts(world_app) == before
