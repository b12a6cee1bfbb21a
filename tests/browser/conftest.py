"""Real-browser fixtures: one Chromium for the session, driven by the sync Playwright API.

The system Chromium is used (``playwright install`` cannot download one here), with the
flags that keep it off the network. axe-core is read from ``tests/browser/node_modules``
(installed by ``make test`` with ``npm ci --prefix tests/browser``) and injected into the
page as an init script: nothing is fetched from a CDN, and the app's Content-Security-Policy
(``script-src 'self'``, which rightly refuses an inline ``<script>`` tag) stays enforced.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import expect as _expect

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
STAFF_SECRET = "demo-jalon-2026"
WORKER_SECRET = "482915"
#: Impacts that fail the accessibility tests.
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium shared by every browser test."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """The axe-core script, from the npm package installed next to these tests."""
    assert AXE_JS.is_file(), f"{AXE_JS} is missing: run `npm ci --prefix tests/browser`"
    return AXE_JS.read_text(encoding="utf-8")


def format_violations(violations: list[dict[str, Any]]) -> str:
    """A readable list of axe violations: rule, impact, help and the offending nodes."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '')!r}")
    return "\n".join(lines)


class Browse:
    """A base URL, a browser and the helpers every browser test uses."""

    def __init__(self, browser: Browser, base_url: str, axe_source: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.axe_source = axe_source
        self.contexts: list[BrowserContext] = []

    def page(
        self, viewport: dict[str, int] = PHONE, *, javascript: bool = True, axe: bool = False
    ) -> Page:
        """A fresh page in its own context (own cookies), at ``viewport``; with ``axe``,
        axe-core is present in every document the page loads."""
        context = self.browser.new_context(
            viewport=viewport,
            base_url=self.base_url,
            java_script_enabled=javascript,
            locale="fr-FR",
            reduced_motion="reduce",
        )
        context.set_default_timeout(30_000)
        if axe:
            context.add_init_script(script=self.axe_source)
        self.contexts.append(context)
        return context.new_page()

    def login(self, page: Page, login: str, secret: str) -> None:
        """Sign in through the real form and wait for the page it leads to."""
        page.goto("/connexion")
        page.get_by_label("Identifiant ou adresse e-mail").fill(login)
        page.get_by_label("Mot de passe ou code").fill(secret)
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name="Se connecter").click()
        assert not page.url.endswith("/connexion"), f"sign-in of {login} failed"

    def worker_file(self, page: Page, staff: str, worker: str, secret: str = STAFF_SECRET) -> None:
        """Sign ``staff`` in and open the file of the worker whose name starts ``worker``."""
        self.login(page, staff, secret)
        page.goto(f"{self.structure_path(page)}/salaries")
        with page.expect_navigation():
            page.locator("main").get_by_role("link", name=re.compile(worker)).click()

    def structure_path(self, page: Page) -> str:
        """``/s/<structure_id>`` of the structure home the page is on."""
        match = re.search(r"/s/[A-Za-z0-9_-]+", page.url)
        assert match, f"not on a structure page: {page.url}"
        return match.group(0)

    def blocking_violations(self, page: Page) -> list[dict[str, Any]]:
        """axe-core violations of impact serious or critical on the current page."""
        assert page.evaluate("typeof window.axe !== 'undefined'"), "page opened without axe"
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]

    def overflowing(self, page: Page) -> list[str]:
        """Elements that stick out of the viewport sideways (the page scrolls horizontally)."""
        return (
            page.evaluate(
                """() => {
                const width = document.documentElement.clientWidth;
                if (document.documentElement.scrollWidth <= width) return [];
                return [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > width + 1)
                    .slice(0, 5)
                    .map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : ''));
            }"""
            )
            or []
        )

    def screenshot(self, page: Page, name: str) -> Path:
        """Save a full-page screenshot to ``docs/screenshots/<name>.png`` (overwritten)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browse(browser: Browser, live_server, axe_source: str) -> Iterator[Browse]:  # type: ignore[no-untyped-def]
    """Helpers bound to a live server on a fresh copy of the test world."""
    helper = Browse(browser, live_server.url, axe_source)
    yield helper
    helper.close()


# A loaded CI machine (two test workers, a live server each) can be slow: wait longer
# before calling a page broken.
_expect.set_options(timeout=30_000)
