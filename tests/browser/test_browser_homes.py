"""Each demo role signs in through the real form on a phone and reaches its own home.

The full-page screenshots land in ``docs/screenshots/`` (overwritten on every run).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, STAFF_SECRET, WORKER_SECRET, Browse

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class Home:
    role: str
    login: str
    secret: str
    path: str  # a regular expression the home URL must match
    heading: str  # the h1
    section: str | None  # an h2 only this role's home has
    people: tuple[str, ...] = ()  # names listed on that home
    absent: tuple[str, ...] = ()  # names that must not be there


HOMES = [
    Home(
        "admin",
        "claire.admin",
        STAFF_SECRET,
        r"/s/[\w-]+/$",
        "Bonjour Claire",
        "Administration",
    ),
    Home(
        "encadrant",
        "marc.encadrant",
        STAFF_SECRET,
        r"/s/[\w-]+/$",
        "Bonjour Marc",
        "Mon équipe",
        ("Karim Benali", "Julie Moreau", "Ousmane Diallo"),
        ("Léa Petit",),  # in Paul's team
    ),
    Home(
        "conseiller",
        "sophie.cip",
        STAFF_SECRET,
        r"/s/[\w-]+/$",
        "Bonjour Sophie",
        "Les personnes que je suis",
        ("Karim Benali", "Julie Moreau", "Ousmane Diallo"),
        ("Léa Petit",),  # has no referent
    ),
    Home(
        "validateur",
        "nadia.validatrice",
        STAFF_SECRET,
        r"/s/[\w-]+/$",
        "Bonjour Nadia",
        "Validation",
    ),
    Home("salarie", "karim", WORKER_SECRET, r"/moi/$", "Bonjour Karim", "Où je travaille"),
    Home(
        "superadmin",
        "super.admin",
        STAFF_SECRET,
        r"/plateforme/structures$",
        "Structures de la plateforme",
        None,
        ("Les Jardins du Val", "Atelier Bois Partagé"),
    ),
]
OTHER_SECTIONS = {"Administration", "Mon équipe", "Les personnes que je suis", "Validation"}


def check_home(page: Page, home: Home) -> None:
    """The page is ``home``'s, with its own section and none meant for other roles."""
    expect(page).to_have_url(_url_pattern(home.path))
    main = page.locator("main")
    expect(main.get_by_role("heading", level=1)).to_have_text(home.heading)
    if home.section:
        expect(main.get_by_role("heading", level=2, name=home.section)).to_be_visible()
    for other in OTHER_SECTIONS - {home.section}:
        expect(main.get_by_role("heading", level=2, name=other, exact=True)).to_have_count(0)
    for name in home.people:
        expect(main.get_by_text(name, exact=True)).to_be_visible()
    for name in home.absent:
        expect(main.get_by_text(name)).to_have_count(0)


def _url_pattern(path: str) -> re.Pattern[str]:
    return re.compile(r"^http://127\.0\.0\.1:\d+" + path)


def test_every_role_signs_in_on_a_phone_and_reaches_its_home(browse: Browse) -> None:
    for home in HOMES:
        page = browse.page(PHONE)
        browse.login(page, home.login, home.secret)
        check_home(page, home)
        assert browse.overflowing(page) == [], f"{home.role}: the page scrolls sideways"
        browse.screenshot(page, f"home-{home.role}")
        page.context.close()


def test_login_and_referential_pages_on_a_phone(browse: Browse) -> None:
    page = browse.page(PHONE)
    page.goto("/connexion")
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    expect(page.get_by_label("Identifiant ou adresse e-mail")).to_be_visible()
    assert browse.overflowing(page) == []
    browse.screenshot(page, "login")
    page.goto("/referentiels/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Les compétences observées au travail"
    )
    expect(page.get_by_role("heading", level=2, name="L'échelle en 5 niveaux")).to_be_visible()
    expect(page.locator("main .competence").first).to_be_visible()
    page.wait_for_load_state("load")
    broken = page.evaluate(
        "[...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)"
    )
    assert broken == [], f"pictograms that do not load: {broken}"
    assert browse.overflowing(page) == []
    browse.screenshot(page, "referentiel")
