"""The claim sheet in a browser: printed with a QR code of at least 4 cm, then used on a phone
without JavaScript (SHR-06); axe finds nothing serious on either page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from app.services import notifications, qr
from tests.browser.conftest import DESKTOP, PHONE, STAFF_SECRET, Browse, format_violations

pytestmark = pytest.mark.browser

#: 4 cm in CSS pixels (96 per inch).
FOUR_CM = 4 / 2.54 * 96


def _axe_clean(browse: Browse, page: Page) -> None:
    for viewport in (PHONE, DESKTOP):
        page.set_viewport_size(viewport)
        violations = browse.blocking_violations(page)
        assert not violations, format_violations(violations)
        if viewport is PHONE:
            assert browse.overflowing(page) == []
    page.set_viewport_size(PHONE)


def _print_sheet(browse: Browse, login: str) -> tuple[Page, str]:
    """Sophie prints ``login``'s claim sheet; the page and the code on it."""
    page = browse.page(PHONE, axe=True)
    browse.worker_file(page, "sophie.cip", "Karim")
    with page.expect_navigation():
        page.get_by_role("button", name="Imprimer une feuille de retrait").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Récupérer mes badges numériques")
    return page, page.locator(".claim-code").inner_text()


def test_the_printed_sheet_has_a_qr_code_of_at_least_4_cm_that_reads_in_black_and_white(
    browse: Browse,
) -> None:
    page, code = _print_sheet(browse, "karim")
    _axe_clean(browse, page)
    expect(page.get_by_role("button", name="Imprimer")).to_be_visible()  # JavaScript is on
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_role("button", name="Imprimer")).to_be_hidden()
    expect(page.locator(".claim-code")).to_be_visible()
    box = page.locator(".claim-qr").bounding_box()
    assert box is not None and box["width"] >= FOUR_CM and box["height"] >= FOUR_CM, box
    grey = page.locator(".claim-qr").screenshot()
    assert qr.decode_qr(grey) == notifications.claim_url("http://localhost", "karim", code)


def test_without_javascript_the_print_button_stays_hidden(browse: Browse) -> None:
    page = browse.page(PHONE, javascript=False)
    browse.worker_file(page, "sophie.cip", "Karim")
    with page.expect_navigation():
        page.get_by_role("button", name="Imprimer une feuille de retrait").click()
    expect(page.locator("[data-print]")).to_be_hidden()
    expect(page.locator(".claim-qr")).to_be_visible()


def test_a_worker_claims_with_the_link_without_javascript(browse: Browse) -> None:
    sheet, code = _print_sheet(browse, "karim")
    link = notifications.claim_url("http://localhost", "karim", code)
    sheet.context.close()
    page = browse.page(PHONE, javascript=False)
    target = urlsplit(link)
    page.goto(f"{target.path}?{target.query}")
    expect(page.get_by_label("Identifiant")).to_have_value("karim")
    expect(page.get_by_label("Code de retrait")).to_have_value(code)
    with page.expect_navigation():
        page.get_by_role("button", name="Continuer").click()
    assert urlsplit(page.url).path == "/moi/code"
    page.get_by_label("Nouveau mot de passe ou code").fill("739154")
    page.get_by_label("Le même, encore une fois").fill("739154")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer").click()
    assert urlsplit(page.url).path == "/moi/badges"
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_the_claim_page_passes_axe(browse: Browse) -> None:
    page = browse.page(PHONE, axe=True)
    page.goto("/connexion/retrait?identifiant=karim&code=ABCD-EFGH")
    expect(page.get_by_role("heading", level=1)).to_have_text("Récupérer mes badges numériques")
    _axe_clean(browse, page)


def test_the_admins_page_of_messages_passes_axe_with_a_message_sent(browse: Browse) -> None:
    page = browse.page(PHONE, axe=True)
    browse.worker_file(page, "sophie.cip", "Karim")
    page.get_by_label("Envoyer aussi le lien par SMS ou par e-mail").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Imprimer une feuille de retrait").click()
    # No SMS provider in the tests: the page says the link only went to the local file.
    expect(
        page.get_by_text("Le lien n'a pas été envoyé : aucun fournisseur de SMS")
    ).to_be_visible()
    admin = browse.page(PHONE, axe=True)
    browse.login(admin, "claire.admin", STAFF_SECRET)
    admin.goto(f"{browse.structure_path(admin)}/admin/envois")
    expect(admin.get_by_role("button", name="Renvoyer")).to_be_visible()
    expect(admin.get_by_text("Ce qui aurait été envoyé")).to_be_visible()
    _axe_clean(browse, admin)
