"""Using Jalon without JavaScript, with the keyboard only, and with a finger on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PHONE, WORKER_SECRET, Browse

pytestmark = pytest.mark.browser

#: Controls that must be big enough to hit with a finger (WCAG 2.5.5: 44×44 CSS px).
#: Inline text links inside sentences are the accepted exception, so a plain ``a`` is only
#: checked in a menu (``nav``).
TOUCH_CONTROLS = "a.button, button, input:not([type=hidden]), select, .person, nav a"
MIN_TOUCH = 44


def focused(page: Page) -> dict[str, str]:
    """What has the keyboard focus: tag, id, class and text."""
    return page.evaluate(
        """() => {
            const e = document.activeElement;
            return {tag: e.tagName.toLowerCase(), id: e.id, cls: e.className,
                    text: (e.textContent || '').trim()};
        }"""
    )


def test_a_worker_signs_in_and_out_without_javascript(browse: Browse) -> None:
    page = browse.page(PHONE, javascript=False)
    page.set_content("<title>off</title><script>document.title = 'on'</script>")
    assert page.title() == "off"  # the context really runs no script of the page
    browse.login(page, "julie", WORKER_SECRET)
    expect(page).to_have_url(f"{browse.base_url}/moi/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Julie")
    with page.expect_navigation():
        page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("status")).to_contain_text("Vous êtes déconnecté·e")
    page.goto("/moi/")
    expect(page).to_have_url(f"{browse.base_url}/connexion?next=/moi/")


def test_the_skip_link_comes_first_and_the_login_form_works_with_the_keyboard(
    browse: Browse,
) -> None:
    page = browse.page(PHONE)
    page.goto("/connexion")
    skip = page.locator("a.skip-link")
    expect(skip).not_to_be_in_viewport()

    page.keyboard.press("Tab")
    assert focused(page)["cls"] == "skip-link"
    expect(skip).to_be_focused()
    expect(skip).to_have_text("Aller au contenu")
    box = skip.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= PHONE["width"], box
    assert box["y"] + box["height"] <= PHONE["height"], box

    page.keyboard.press("Enter")  # to the main content, past the header
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#login")).to_be_focused()
    page.keyboard.type("karim")
    page.keyboard.press("Tab")
    expect(page.locator("#secret")).to_be_focused()
    page.keyboard.type(WORKER_SECRET)
    page.keyboard.press("Tab")
    submit = page.locator("main").get_by_role("button", name="Se connecter")
    expect(submit).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # The form posts to its own URL, /connexion#contenu: the browser keeps the fragment.
    expect(page).to_have_url(re.compile(re.escape(browse.base_url) + r"/moi/(#contenu)?$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Karim")


def small_targets(page: Page) -> list[str]:
    """Visible controls of the main content, header and footer smaller than 44×44."""
    too_small = []
    for scope in ("main", "header", "footer"):
        controls = page.locator(scope).locator(TOUCH_CONTROLS)
        for index in range(controls.count()):
            control = controls.nth(index)
            if not control.is_visible():
                continue
            box = control.bounding_box()
            assert box is not None
            if box["width"] < MIN_TOUCH or box["height"] < MIN_TOUCH:
                label = control.evaluate("e => e.outerHTML.slice(0, 120)")
                too_small.append(f"{box['width']:.0f}×{box['height']:.0f} {label}")
    return too_small


def test_touch_targets_are_at_least_44_px_on_a_phone(browse: Browse) -> None:
    page = browse.page(PHONE)
    page.goto("/connexion")
    login_controls = page.locator("main").locator(TOUCH_CONTROLS)
    expect(login_controls).to_have_count(3)  # identifier, secret, button
    assert small_targets(page) == []
    browse.login(page, "karim", WORKER_SECRET)
    expect(page.get_by_role("heading", level=1)).to_have_text("Bonjour Karim")
    # the worker home's links (my journey, my code, recovery codes, activity, about badges…)
    expect(page.locator("main a.button").first).to_be_visible()
    assert page.locator("main a.button").count() >= 4
    assert small_targets(page) == []
