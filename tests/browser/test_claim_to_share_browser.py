"""From a printed claim sheet to a shared badge, on a phone (390×844), in a real Chromium
(issue #10's end-to-end bar; SHR-01, SHR-04, SHR-05, SHR-06).

Karim has no e-mail address. His conseillère prints a claim sheet; he scans its QR code,
signs in with it once, chooses his own code, previews the badge waiting for him, accepts it
and keeps it private, then adds it to his profile, opens his profile, and downloads the
baked PNG and the one-page PDF. The PDF page is rendered to an image with poppler's
``pdftoppm`` and its QR code decoded: it leads to the badge's hosted address, which now
answers anyone.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from app import openbadges
from app.services import qr
from tests.browser.conftest import PHONE, Browse

pytestmark = pytest.mark.browser

NEW_CODE = "731946"


def _printed_claim_link(browse: Browse) -> str:
    """Sophie prints Karim's claim sheet: the link its QR code holds, read from the image."""
    page = browse.page(PHONE)
    browse.worker_file(page, "sophie.cip", "Karim")
    with page.expect_navigation():
        page.get_by_role("button", name="Imprimer une feuille de retrait").click()
    link = qr.decode_qr(page.locator(".claim-qr").screenshot())
    assert link is not None and "/connexion/retrait?" in link
    page.context.close()
    return link


def _download(page: Page, name: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("link", name=name).click()
    path = folder / info.value.suggested_filename
    info.value.save_as(path)
    return path


def _pdf_qr_codes(pdf: Path, folder: Path) -> list[str]:
    """The QR codes read on each page of ``pdf``, rendered in grey as a printer would."""
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(folder / "page")],
        check=True,
        capture_output=True,
    )
    pages = sorted(folder.glob("page*.png"))
    assert pages, "pdftoppm rendered nothing"
    return [qr.decode_qr(p.read_bytes()) or "" for p in pages]


def test_a_worker_without_email_claims_accepts_and_shares_a_badge(
    browse: Browse, live_server, tmp_path: Path
) -> None:
    link = _printed_claim_link(browse)
    parts = urlsplit(link)

    # On his phone: the QR code opens the claim page, prefilled; the code is used on submit.
    page = browse.page(PHONE)
    page.goto(f"{parts.path}?{parts.query}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Récupérer mes badges")
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Continuer").click()
    # First sign-in with a one-time code: he chooses a code of his own.
    page.get_by_label("Nouveau mot de passe ou code").fill(NEW_CODE)
    page.get_by_label("Le même, encore une fois").fill(NEW_CODE)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Enregistrer").click()
    assert urlsplit(page.url).path == "/moi/badges"
    expect(page.locator("#a-accepter")).to_contain_text("À accepter (1)")

    # The badge waiting for him, previewed as an employer will see it.
    with page.expect_navigation():
        page.locator("main .badge-link", has_text="Communiquer").first.click()
    preview = page.locator("#apercu")
    expect(preview).to_contain_text("Ce que verra un employeur")
    for field in ("Ce qu'il atteste", "Comment il a été obtenu", "Délivré par", "Délivré le"):
        expect(preview).to_contain_text(field)
    badge_page = page.url
    badge_id = urlsplit(badge_page).path.rstrip("/").rsplit("/", 1)[-1]
    hosted = f"http://localhost/badges/{badge_id}"  # the world's JALON_BASE_URL
    # Not accepted yet: its public address does not exist.
    anyone = live_server.app.test_client(use_cookies=False)
    assert anyone.get(f"/badges/{badge_id}.json").status_code == 404

    with page.expect_navigation():
        page.get_by_role("button", name="Accepter mais garder privé").click()
    expect(page.get_by_text("Il n'est pas sur votre profil public.")).to_be_visible()
    with page.expect_navigation():
        page.get_by_role("button", name="Montrer sur mon profil").click()
    expect(page.get_by_text("Il est sur votre profil public.")).to_be_visible()

    # His profile: opened by him, it lists the badge.
    page.goto("/moi/profil")
    with page.expect_navigation():
        page.get_by_role("button", name="Ouvrir mon profil public").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Voir mon profil comme un employeur").click()
    expect(page.locator("main")).to_contain_text("Communiquer")

    # Downloads: the baked PNG carries the hosted badge; the PDF's QR code leads to it.
    page.goto(badge_page)
    png = _download(page, "Télécharger l'image (PNG)", tmp_path).read_bytes()
    baked = json.loads(openbadges.unbake_png(png) or "{}")
    assert baked["id"] == hosted and baked["type"] == "Assertion"
    pdf = _download(page, "Télécharger une page à imprimer (PDF)", tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert _pdf_qr_codes(pdf, tmp_path) == [hosted]

    # Accepted: the address answers anyone, with the badge he accepted.
    published = anyone.get(f"/badges/{badge_id}.json")
    assert published.status_code == 200 and published.get_json(force=True)["id"] == hosted
