"""The earner's badge pages in a browser: axe finds nothing serious at 390 px and 1280 px,
nothing scrolls sideways, every control is at least 44 px tall, the copy button copies,
and the pages work without JavaScript (SHR-01, SHR-04, ACC-02)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    WORKER_SECRET,
    Browse,
    format_violations,
)

pytestmark = pytest.mark.browser

#: Controls a finger must hit: buttons, links styled as buttons, cards, radio tiles.
TARGETS = "main .button, main button:not([hidden]), main .badge-link, main .tile label"


def _checked(browse: Browse, page: Page) -> None:
    """axe at both sizes, no sideways scroll on the phone, touch targets of 44 px."""
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        violations = browse.blocking_violations(page)
        assert not violations, f"{page.url}\n{format_violations(violations)}"
    page.set_viewport_size(PHONE)
    assert browse.overflowing(page) == [], page.url
    small = page.evaluate(
        """(selector) => [...document.querySelectorAll(selector)]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.textContent.trim().slice(0, 40))""",
        TARGETS,
    )
    assert small == [], f"{page.url}: targets under 44 px: {small}"


def _open_badge(page: Page, name: str) -> None:
    with page.expect_navigation():
        page.locator("main .badge-link", has_text=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def test_the_worker_accepts_a_badge_and_shares_its_link(browse: Browse) -> None:
    page = browse.page(PHONE, axe=True)
    browse.login(page, "karim", WORKER_SECRET)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Mes badges numériques — 1 à accepter")).click()
    expect(page.locator("#a-accepter")).to_contain_text("À accepter (1)")
    _checked(browse, page)
    browse.screenshot(page, "badges-salarie")

    _open_badge(page, "Communiquer")
    expect(page.locator("#apercu")).to_contain_text("Ce que verra un employeur")
    _checked(browse, page)
    browse.screenshot(page, "badge-a-accepter")
    with page.expect_navigation():
        page.get_by_role("button", name="Accepter et montrer sur mon profil").click()
    expect(page.get_by_role("status").first).to_contain_text("Ce badge numérique est accepté")
    _checked(browse, page)
    browse.screenshot(page, "badge-accepte")

    # The copy button appears with JavaScript, copies the link and says so.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    link = page.get_by_label("Le lien du badge numérique")
    url = link.input_value()
    assert re.fullmatch(r"http://localhost/badges/[A-Za-z0-9_-]{16,64}", url)
    page.get_by_role("button", name="Copier le lien").click()
    expect(page.locator('[data-copy-status="lien"]')).to_have_text("Lien copié.")
    assert page.evaluate("navigator.clipboard.readText()") == url
    linkedin = page.get_by_role("link", name=re.compile("Ajouter à LinkedIn"))
    assert linkedin.get_attribute("target") == "_blank"
    assert linkedin.get_attribute("rel") == "noopener"

    # The name shown on the badge's page: a radio group with a legend.
    page.get_by_role("group", name="Mon nom sur la page du badge numérique").get_by_text(
        "Karim B."
    ).click()
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer mon choix").click()
    expect(page.get_by_label("Karim B.")).to_be_checked()


def test_without_javascript_the_choices_work_and_the_link_can_be_selected(
    browse: Browse,
) -> None:
    page = browse.page(PHONE, javascript=False)
    browse.login(page, "karim", WORKER_SECRET)
    page.goto("/moi/badges")
    _open_badge(page, "Communiquer")
    expect(page.get_by_role("button", name="Écouter")).to_have_count(0)  # hidden: no speech
    with page.expect_navigation():
        page.get_by_role("button", name="Accepter mais garder privé").click()
    expect(page.get_by_role("button", name="Copier le lien")).to_be_hidden()
    link = page.get_by_label("Le lien du badge numérique")
    expect(link).to_be_visible()
    assert link.get_attribute("readonly") is not None
    # Withdrawal asks for a confirmation first.
    confirm = page.get_by_role("button", name="Oui, retirer ce badge numérique")
    expect(confirm).to_be_hidden()
    page.get_by_text("Demander le retrait").click()
    expect(confirm).to_be_visible()


def test_profile_and_assisted_pages_pass_axe(browse: Browse) -> None:
    page = browse.page(PHONE, axe=True)
    browse.login(page, "lea", WORKER_SECRET)
    page.goto("/moi/profil")
    _checked(browse, page)
    browse.screenshot(page, "profil-public-reglages")
    with page.expect_navigation():
        page.get_by_role("link", name="Voir mon profil comme un employeur").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Badges numériques de Léa P.")
    _checked(browse, page)
    browse.screenshot(page, "profil-public")
    page.goto("/moi/badges")
    _open_badge(page, "Planifier")
    _checked(browse, page)

    page = browse.page(PHONE, axe=True)
    browse.worker_file(page, "sophie.cip", "Karim")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Aider à choisir")).first.click()
    expect(page.locator(".assisted-banner")).to_have_text("Vous aidez Karim : c'est sa décision.")
    _checked(browse, page)
