"""Self-assessment and points d'étape in a real browser (issue #6).

Karim answers « Mon avis sur mon travail » with the keyboard only, then with taps; Sophie
(his conseillère) records a point d'étape that Karim reads and comments; axe-core checks
the four progress pages at 390 px and 1280 px. Screenshots land in ``docs/screenshots/``
and illustrate ``docs/guide-salarie.md`` and ``docs/guide-conseiller.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from app.domain.progress import choices_for
from app.extensions import db
from app.models import (
    Competence,
    Membership,
    ProgressReview,
    ReviewComment,
    SelfAssessment,
    User,
)
from app.queries import progress as progress_queries
from app.services import progress as progress_service
from app.web.progress_view import scale_payload
from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    STAFF_SECRET,
    WORKER_SECRET,
    Browse,
    format_violations,
)

pytestmark = pytest.mark.browser

WORKER, CONSEILLER = "karim", "sophie.cip"


def member(login: str) -> Membership:
    """The membership of ``login`` in the demo structure (inside an app context)."""
    found = db.session.scalar(
        select(Membership).join(User, Membership.user_id == User.id).where(User.login == login)
    )
    assert found is not None, login
    return found


def stored_answers(live_server) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """Karim's self-assessments, oldest first: {competence public id: choice}."""
    with live_server.app.app_context():
        records = db.session.scalars(
            select(SelfAssessment)
            .where(SelfAssessment.worker_id == member(WORKER).id)
            .order_by(SelfAssessment.id)
        ).all()
        result = []
        for record in records:
            assert record.assisted_by_id is None and record.confirmed_at is not None
            result.append({a.competence.public_id: a.choice for a in record.answers})
        return result


def open_self_assessment(browse: Browse, page: Page) -> list[str]:
    """Karim signs in and opens the form from his home; returns the radio group names."""
    browse.login(page, WORKER, WORKER_SECRET)
    with page.expect_navigation():
        page.get_by_role("link", name="Donner mon avis sur mon travail").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon avis sur mon travail")
    names = page.locator("fieldset.question input[type=radio]").evaluate_all(
        "inputs => [...new Set(inputs.map(i => i.name))]"
    )
    assert len(names) >= 3, names
    return names


def focused(page: Page) -> dict[str, str]:
    """Name, value, type and tag of the element that has the keyboard focus."""
    return page.evaluate(
        """() => { const e = document.activeElement;
        return {tag: e.tagName.toLowerCase(), name: e.name || '', value: e.value || '',
                type: e.type || '', text: (e.textContent || '').trim()}; }"""
    )


def tab_to(page: Page, wanted: Callable[[dict[str, str]], bool], limit: int = 12) -> dict[str, str]:
    """Press Tab until the focused element satisfies ``wanted``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"Tab never reached the element; last focus: {focused(page)}")


def load_demo_progress(live_server) -> str:  # type: ignore[no-untyped-def]
    """Demo data of Karim's journey: a confirmed self-assessment, two points d'étape by
    Sophie with goals, and Karim's comment; returns his public id (for the staff pages)."""
    with live_server.app.app_context():
        session = db.session
        karim, sophie = member(WORKER), member(CONSEILLER)
        structure = karim.structure
        fmt = structure.self_assessment_format
        choices = choices_for(fmt, scale_payload(session))
        competences: list[Competence] = progress_queries.soft_skills(session)
        now = datetime.now(UTC) - timedelta(days=40)
        progress_service.record_self_assessment(
            session,
            worker=karim,
            answers={c: choices[i % len(choices)].code for i, c in enumerate(competences[:4])},
            choices=choices,
            format=fmt,
            now=now,
        )
        for days, steps, goal in ((40, "Arriver à l'heure.", 0), (5, "Demander de l'aide.", 1)):
            review = progress_service.record_review(
                session,
                author=sophie,
                worker=karim,
                held_on=(datetime.now(UTC) - timedelta(days=days)).date(),
                next_review_on=(datetime.now(UTC) + timedelta(days=30 - days)).date(),
                next_steps=steps,
                goals=[
                    progress_service.GoalInput(
                        competence=competences[goal],
                        kind="professionnel",
                        target_level=3,
                        text="Un objectif concret.",
                    )
                ],
                adjusted=False,
                now=datetime.now(UTC) - timedelta(days=days),
            )
        progress_service.comment_review(
            session,
            review=review,
            author=karim.user,
            text="Je suis d'accord.",
            now=datetime.now(UTC),
        )
        session.commit()
        return karim.public_id


def test_a_self_assessment_with_the_keyboard_only(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    page = browse.page(PHONE)
    names = open_self_assessment(browse, page)
    before = stored_answers(live_server)
    expected: dict[str, str] = {}
    # Question i: Tab into the group (focus on its first tile), then Space for the first
    # tile or one or two arrow presses (each moves and checks). The last one is skipped.
    for index, name in enumerate(names[:-1]):
        now = tab_to(page, lambda f, name=name: f["name"] == name)
        assert now["type"] == "radio"
        moves = index % 3
        if moves == 0:
            page.keyboard.press("Space")
        for _ in range(moves):
            page.keyboard.press("ArrowDown" if index % 2 else "ArrowRight")
        chosen = page.locator(f"input[name='{name}']:checked")
        expect(chosen).to_have_count(1)
        expected[name[2:]] = chosen.get_attribute("value") or ""
        expect(chosen).to_be_focused()
    button = tab_to(page, lambda f: f["tag"] == "button" and f["type"] == "submit", limit=8)
    assert button["text"] == "Enregistrer mes réponses"
    with page.expect_navigation():
        page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Mon parcours")
    expect(
        page.get_by_role("status").filter(has_text="Vos réponses sont enregistrées")
    ).to_be_visible()
    after = stored_answers(live_server)
    assert after[: len(before)] == before
    assert after[len(before) :] == [expected]
    assert len(set(expected.values())) > 1  # the arrow keys did move the choice


def test_a_self_assessment_with_taps(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    context = browse.browser.new_context(
        viewport=PHONE, base_url=browse.base_url, has_touch=True, is_mobile=True, locale="fr-FR"
    )
    browse.contexts.append(context)
    page = context.new_page()
    names = open_self_assessment(browse, page)
    before = stored_answers(live_server)
    expected: dict[str, str] = {}
    for index, name in enumerate(names):
        tile = page.locator(f"input[name='{name}']").nth((index + 2) % 3)
        label = page.locator(f"label[for='{tile.get_attribute('id')}']")
        box = label.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box  # a finger's size
        label.tap()
        expect(tile).to_be_checked()
        expected[name[2:]] = tile.get_attribute("value") or ""
    browse.screenshot(page, "progress-self-assessment")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer mes réponses").tap()

    expect(page.get_by_role("heading", level=1)).to_have_text("Mon parcours")
    after = stored_answers(live_server)
    assert after[: len(before)] == before
    assert after[len(before) :] == [expected]


def test_a_point_d_etape_is_recorded_read_and_commented(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    load_demo_progress(live_server)  # an earlier point d'étape, to compare with
    sophie = browse.page(PHONE)
    browse.login(sophie, CONSEILLER, STAFF_SECRET)
    with sophie.expect_navigation():
        sophie.get_by_role("link", name="Parcours de Karim Benali").click()
    expect(sophie.get_by_role("heading", level=1)).to_have_text("Parcours de Karim Benali")
    with sophie.expect_navigation():
        sophie.locator("main").get_by_role("link", name="Points d'étape").click()
    expect(sophie.get_by_role("heading", level=1)).to_have_text("Points d'étape de Karim Benali")

    goal = sophie.get_by_role("group", name="Objectif 1")
    goal.get_by_label("Compétence").select_option(index=3)  # not the previous goal
    competence_name = goal.get_by_label("Compétence").evaluate(
        "s => s.options[s.selectedIndex].text"
    )
    goal.get_by_label("Type d'objectif").select_option("professionnel")
    goal.get_by_label("L'objectif en quelques mots").fill("Prévenir quand je suis en retard.")
    steps = "Appeler l'équipe avant 8 h en cas de retard. Faire le point vendredi."
    sophie.get_by_label("Prochaines étapes convenues ensemble").fill(steps)
    next_date = sophie.get_by_label("Date du prochain point (facultative)")
    held_on = sophie.get_by_label("Date du point d'étape").input_value()
    upcoming = (datetime.fromisoformat(held_on) + timedelta(days=21)).date()
    next_date.fill(upcoming.isoformat())
    browse.screenshot(sophie, "progress-review")
    with sophie.expect_navigation():
        sophie.get_by_role("button", name="Enregistrer le point d'étape").click()
    expect(
        sophie.get_by_role("status").filter(has_text="Le point d'étape est enregistré.")
    ).to_be_visible()

    with live_server.app.app_context():
        review = db.session.scalars(
            select(ProgressReview)
            .where(ProgressReview.worker_id == member(WORKER).id)
            .order_by(ProgressReview.id.desc())
        ).first()
        assert review is not None and review.author.login == CONSEILLER
        assert review.next_steps == steps
        assert review.next_review_on == upcoming
        assert [(g.kind, g.text) for g in review.goals] == [
            ("professionnel", "Prévenir quand je suis en retard.")
        ]
        review_id = review.public_id

    karim = browse.page(PHONE)
    browse.login(karim, WORKER, WORKER_SECRET)
    with karim.expect_navigation():
        karim.get_by_role("link", name="Mon parcours").click()
    card = karim.locator(f"#etape-{review_id}")
    expect(card).to_contain_text(competence_name)
    expect(card).to_contain_text("Prévenir quand je suis en retard.")
    expect(card.locator(".next-steps")).to_have_text(steps)
    expect(card).to_contain_text(f"Prochain point : le {upcoming.strftime('%d/%m/%Y')}.")
    expect(karim.locator("#etape .next-steps")).to_have_text(steps)
    expect(card.locator(".changes")).to_contain_text(f"Nouvel objectif : {competence_name}")
    comment = "D'accord. J'ai noté le numéro de l'équipe."
    card.get_by_label("Mon commentaire").fill(comment)
    with karim.expect_navigation():
        card.get_by_role("button", name="Envoyer mon commentaire").click()
    expect(
        karim.get_by_role("status").filter(has_text="Votre commentaire est enregistré")
    ).to_be_visible()
    expect(karim.locator(f"#etape-{review_id} .comments")).to_contain_text(f"« {comment} »")
    browse.screenshot(karim, "progress-mine")

    with live_server.app.app_context():
        stored = db.session.scalars(
            select(ReviewComment).join(ProgressReview).where(ProgressReview.public_id == review_id)
        ).all()
        assert [(c.text, c.author.login) for c in stored] == [(comment, WORKER)]

    sophie.reload()  # the points d'étape page, then the journey page
    with sophie.expect_navigation():
        sophie.get_by_role("link", name="Parcours de Karim").click()
    on_journey = sophie.locator(f"#etape-{review_id}")
    expect(on_journey.locator(".comments")).to_contain_text(f"« {comment} »")
    expect(on_journey.locator(".comments")).to_contain_text("Karim Benali")
    browse.screenshot(sophie, "progress-journey")


def test_progress_pages_pass_axe(browse: Browse, live_server) -> None:  # type: ignore[no-untyped-def]
    worker_id = load_demo_progress(live_server)
    failures: list[str] = []
    checked: list[str] = []

    def audit(page: Page, path: str) -> None:
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response)
        for size, viewport in (("390×844", PHONE), ("1280×800", DESKTOP)):
            page.set_viewport_size(viewport)
            violations = browse.blocking_violations(page)
            if violations:
                failures.append(f"{path} at {size}:\n{format_violations(violations)}")
            if viewport is PHONE and (sticking_out := browse.overflowing(page)):
                failures.append(f"{path} at {size} scrolls sideways: {sticking_out}")
        page.set_viewport_size(PHONE)
        checked.append(path)

    karim = browse.page(PHONE, axe=True)
    browse.login(karim, WORKER, WORKER_SECRET)
    with karim.expect_navigation():
        karim.get_by_role("link", name="Mon parcours").click()
    base = browse.structure_path(karim)
    audit(karim, f"{base}/auto-evaluation")
    audit(karim, f"{base}/mon-parcours")
    expect(karim.locator("#etapes .review")).to_have_count(2)

    sophie = browse.page(PHONE, axe=True)
    browse.login(sophie, CONSEILLER, STAFF_SECRET)
    audit(sophie, f"{base}/salaries/{worker_id}/parcours")
    audit(sophie, f"{base}/salaries/{worker_id}/points-etape")
    audit(sophie, f"{base}/salaries/{worker_id}/auto-evaluation")

    assert len(checked) == 5
    assert not failures, "\n\n".join(failures)
