"""axe-core finds nothing serious or critical, on a phone (390×844) and a desktop (1280×800).

Every page is checked at both sizes without reloading: the viewport is resized and axe runs
again, so the layout of each media query is what axe sees.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    STAFF_SECRET,
    WORKER_SECRET,
    Browse,
    format_violations,
)

pytestmark = pytest.mark.browser

#: Who signs in, and the pages (after their home) to check as them.
VISITS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "claire.admin",
        STAFF_SECRET,
        (
            "{s}/admin/personnes",
            "{s}/admin/personnes/nouvelle",
            "{s}/admin/equipes",
            "team:Espaces verts",
            "{s}/admin/structure",
            "{s}/admin/envois",
            "{s}/referentiel",
        ),
    ),
    ("marc.encadrant", STAFF_SECRET, ()),
    ("sophie.cip", STAFF_SECRET, ()),
    ("nadia.validatrice", STAFF_SECRET, ()),
    ("karim", WORKER_SECRET, ("/moi/code", "/badge-numerique")),
    ("super.admin", STAFF_SECRET, ()),
]
ANONYMOUS = ("/connexion", "/connexion/retrait", "/referentiels/", "/badge-numerique")


class Audit:
    """Runs axe at both sizes on each page visited and collects what fails."""

    def __init__(self, browse: Browse) -> None:
        self.browse = browse
        self.failures: list[str] = []
        self.checked: list[str] = []

    def check(self, page: Page, label: str) -> None:
        """axe on the current page at phone size, then at desktop size."""
        for name, viewport in (("390×844", PHONE), ("1280×800", DESKTOP)):
            page.set_viewport_size(viewport)
            violations = self.browse.blocking_violations(page)
            if violations:
                self.failures.append(
                    f"{label} at {name} ({page.url}):\n{format_violations(violations)}"
                )
            if viewport is PHONE and (sticking_out := self.browse.overflowing(page)):
                self.failures.append(f"{label} at {name} scrolls sideways: {sticking_out}")
        page.set_viewport_size(PHONE)
        self.checked.append(label)


def open_page(browse: Browse, page: Page, target: str) -> None:
    """Go to ``target``: a path (``{s}`` is the structure) or ``team:<name>`` via the list."""
    if target.startswith("team:"):
        page.goto(f"{browse.structure_path(page)}/admin/equipes")
        with page.expect_navigation():
            page.locator("main").get_by_role("link", name=target[5:]).click()
        expect(page.get_by_role("heading", level=1)).to_contain_text(target[5:])
        return
    path = target.format(s=browse.structure_path(page)) if "{s}" in target else target
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response}"


def test_no_serious_or_critical_axe_violation_on_phone_or_desktop(browse: Browse) -> None:
    audit = Audit(browse)
    page = browse.page(PHONE, axe=True)
    for path in ANONYMOUS:
        open_page(browse, page, path)
        audit.check(page, f"anonymous {path}")
    page.context.close()
    for login, secret, targets in VISITS:
        page = browse.page(PHONE, axe=True)
        browse.login(page, login, secret)
        audit.check(page, f"{login} home")
        structure_page = page.url
        for target in targets:
            if "{s}" in target or target.startswith("team:"):
                page.goto(structure_page)
            open_page(browse, page, target)
            audit.check(page, f"{login} {target}")
        page.context.close()
    assert len(audit.checked) == len(ANONYMOUS) + sum(1 + len(t) for _, _, t in VISITS)
    assert not audit.failures, "\n\n".join(audit.failures)


def test_the_axe_check_does_catch_a_violation(browse: Browse) -> None:
    """Guard against a check that passes vacuously (axe missing, wrong filter…)."""
    page = browse.page(PHONE, axe=True)
    page.goto("/connexion")
    assert browse.blocking_violations(page) == []
    page.evaluate("document.querySelector('label[for=login]').remove()")
    page.evaluate("document.getElementById('login').removeAttribute('aria-describedby')")
    found = browse.blocking_violations(page)
    assert "label" in {v["id"] for v in found}, format_violations(found)
