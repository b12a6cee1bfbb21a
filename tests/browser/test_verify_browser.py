"""An employer verifies Jalon badges in a real browser, without an account (issue #11).

Every way the page offers — the badge's link, its baked PNG or SVG, a photo of its printed
QR code, a pasted JWS — with JavaScript on and off; the revoked and the expired demo badges
and a forged JWS; axe-core on the form and on results at 390 px and 1280 px. The app is
served on a port it knows before it is built (``tests.conformance.live.serve``), so that its
BASE_URL is its own address: badges' links, images and baked files then all point at the
server the browser talks to.
Screenshots ``verify-form.png`` and ``verify-result.png`` illustrate
``docs/guide-employeur.md``.
"""

from __future__ import annotations

import io
import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import func, select

from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.extensions import db
from app.models import Assertion, BadgeVerification
from app.services import qr
from app.services.badges import badge_name
from app.services.public_urls import PublicUrls
from tests.browser.conftest import DESKTOP, PHONE, Browse, format_violations
from tests.conformance.live import b64url, download, jws_payload, serve
from tests.conftest import LiveServer, dispose, make_app
from tests.support.databases import DatabaseFactory

pytestmark = pytest.mark.browser

JS = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@dataclass(frozen=True)
class Badge:
    public_id: str
    hosted_url: str
    name: str
    identity: str | None


@dataclass
class Verifier:
    """A live Jalon whose BASE_URL is its own address, and a browser pointed at it."""

    app: Flask
    base_url: str
    browse: Browse

    def badge(self, login: str, template: str, *, replacement: bool = False) -> Badge:
        """The demo badge of ``login`` for ``template`` (the re-issued one if ``replacement``)."""
        with self.app.app_context():
            found = [
                a
                for a in db.session.scalars(select(Assertion).order_by(Assertion.id))
                if a.user.login == login
                and a.badge_class.template.code == template
                and (a.replaces_id is not None) == replacement
            ]
            assert len(found) == 1, (login, template, found)
            assertion = found[0]
            return Badge(
                public_id=assertion.public_id,
                hosted_url=PublicUrls(self.base_url).assertion(assertion.public_id),
                name=badge_name(assertion.badge_class.template, assertion.badge_class.level),
                identity=assertion.user.email,
            )

    def verifications(self, badge: Badge) -> int:
        """How many verifications of ``badge`` were counted (badge and month only)."""
        with self.app.app_context():
            return db.session.scalar(
                select(func.count())
                .select_from(BadgeVerification)
                .join(Assertion, BadgeVerification.assertion_id == Assertion.id)
                .where(Assertion.public_id == badge.public_id)
            )

    def baked(self, badge: Badge, fmt: str, directory: Path) -> Path:
        """The baked ``fmt`` (png or svg) download of ``badge``, saved in ``directory``."""
        url = f"{self.base_url}/badges/{badge.public_id}/badge.{fmt}"
        return download(url, directory / f"badge-{badge.public_id}.{fmt}")


@pytest.fixture
def verifier(
    browser: Browser,
    axe_source: str,
    db_factory: DatabaseFactory,
    world_url: str,
    keys_dir: Path,
) -> Iterator[Verifier]:
    """A copy of the test world served at its own BASE_URL, CSRF on as in production."""

    def build(base_url: str) -> Flask:
        return make_app(
            db_factory.copy(world_url), keys_dir, BASE_URL=base_url, WTF_CSRF_ENABLED=True
        )

    with serve(build) as (app, base_url):
        helper = Browse(browser, base_url, axe_source)
        yield Verifier(app, base_url, helper)
        helper.close()
        dispose(app)


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """DejaVu Sans (Debian fonts-dejavu-core, which ``make test`` installs) for accents."""
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default(size=size)


def printed_qr_photo(url: str, path: Path) -> Path:
    """A phone photo of a printed page carrying the QR code of ``url``, as a JPEG.

    The issue asks for a rendered page of the badge's PDF; the PDF comes with a later
    issue, so the printed page is simulated here: a white A4-like page with some text and
    the QR code (made by the app's own ``make_qr_png``), slightly rotated, blurred,
    greyscale and JPEG-compressed, as a hand-held phone would take it.
    """
    page = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(page)
    title, body = font(56), font(30)
    draw.text((110, 120), "Badge numérique — Jalon", fill="black", font=title)
    lines = (
        "Compétence reconnue en situation de travail réelle.",
        "Délivré par : Les Jardins du Val",
        "Pour vérifier ce badge, scannez le QR code",
        "ou ouvrez son lien :",
        url,
    )
    for i, line in enumerate(lines):
        draw.text((110, 260 + 50 * i), line, fill="black", font=body)
    code = Image.open(io.BytesIO(qr.make_qr_png(url))).convert("RGB")
    page.paste(code, (110, 600))
    draw.text((110, 620 + code.height), "Vérifier : /verifier", fill="black", font=body)
    photo = page.rotate(5, resample=Image.Resampling.BICUBIC, expand=True, fillcolor="#8a8478")
    photo = photo.filter(ImageFilter.GaussianBlur(1.2)).convert("L")
    photo.save(path, format="JPEG", quality=80)
    return path


def verdict(page: Page, label: str, badge: Badge | None = None) -> None:
    """The result page's title is the status ``label`` (then the name of ``badge``)."""
    heading = page.get_by_role("heading", level=1)
    if badge is None:
        expect(heading).to_have_text(re.compile(rf"^{re.escape(label)}( — .+)?$"))
    else:
        expect(heading).to_have_text(f"{label} — {badge.name}")


def verify_link(page: Page, link: str, identity: str = "") -> None:
    page.goto("/verifier")
    # Both forms POST: the identity typed must never land in a URL (a log, a history).
    form = page.locator("form", has=page.get_by_label("Lien du badge"))
    assert form.get_attribute("method") == "post"
    form.get_by_label("Lien du badge").fill(link)
    if identity:
        form.get_by_label("Adresse e-mail, téléphone ou lien de profil").fill(identity)
    with page.expect_navigation():
        form.get_by_role("button", name="Vérifier").click()
    if identity:
        assert identity not in page.url


def verify_file(page: Page, path: Path, identity: str = "") -> None:
    page.goto("/verifier")
    form = page.locator("form[enctype='multipart/form-data']")
    form.get_by_label("Image du badge (PNG ou SVG) ou photo de son QR code").set_input_files(
        str(path)
    )
    if identity:
        form.get_by_label("Adresse e-mail, téléphone ou lien de profil").fill(identity)
    with page.expect_navigation():
        form.get_by_role("button", name="Vérifier").click()


def images_loaded(page: Page) -> list[str]:
    """Images of the page that did not load."""
    page.wait_for_load_state("load")
    return page.evaluate(
        "[...document.images].filter(i => !i.complete || !i.naturalWidth).map(i => i.src)"
    )


@JS
def test_the_form_works_without_an_account_and_offers_the_camera_only_where_it_can(
    verifier: Verifier, javascript: bool
) -> None:
    page = verifier.browse.page(PHONE, javascript=javascript)
    response = page.goto("/verifier")
    assert response is not None and response.status == 200
    expect(page).to_have_url(f"{verifier.base_url}/verifier")
    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifier un badge numérique")
    expect(page.get_by_role("heading", level=2, name="Par le lien du badge")).to_be_visible()
    expect(page.get_by_role("heading", level=2, name="Par un fichier ou une photo")).to_be_visible()
    scan = page.get_by_role("button", name="Scanner le QR code avec la caméra")
    if javascript:
        # Shown only where the browser reads QR codes itself and has camera access.
        can_scan = page.evaluate("'BarcodeDetector' in window && !!navigator.mediaDevices")
        if can_scan:
            expect(scan).to_be_visible()
        else:
            expect(scan).to_be_hidden()
    else:
        expect(scan).to_be_hidden()
    assert verifier.browse.overflowing(page) == []
    if javascript:
        verifier.browse.screenshot(page, "verify-form")


@JS
def test_a_pasted_link_to_a_valid_badge_is_valid_and_counted(
    verifier: Verifier, javascript: bool
) -> None:
    lea = verifier.badge("lea", "planifier")
    before = verifier.verifications(lea)
    page = verifier.browse.page(PHONE, javascript=javascript)
    assert lea.identity
    verify_link(page, lea.hosted_url, identity=lea.identity)
    verdict(page, "Valide", lea)
    main = page.locator("main")
    expect(main.get_by_role("status").first).to_have_text(
        "Ce badge a bien été délivré à la personne que vous avez indiquée."
    )
    expect(main).to_contain_text("Le badge est publié à son adresse d'origine")
    expect(main).to_contain_text("La structure n'a pas retiré ce badge")
    assert images_loaded(page) == [], "the badge's image does not load"
    assert verifier.browse.overflowing(page) == []
    assert verifier.verifications(lea) == before + 1
    if javascript:
        verifier.browse.screenshot(page, "verify-result")


@JS
def test_someone_else_s_address_is_not_the_badge_holder(
    verifier: Verifier, javascript: bool
) -> None:
    karim = verifier.badge("karim", "conscience-professionnelle")
    page = verifier.browse.page(PHONE, javascript=javascript)
    verify_link(page, karim.hosted_url, identity="quelquun@example.org")
    verdict(page, "Valide", karim)
    expect(page.locator("main").get_by_role("status").first).to_contain_text(
        "Ce badge n'a pas été délivré à la personne que vous avez indiquée"
    )


@JS
@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_an_uploaded_baked_badge_is_valid(
    verifier: Verifier, javascript: bool, fmt: str, tmp_path: Path
) -> None:
    ousmane = verifier.badge("ousmane", "travailler-en-equipe")
    path = verifier.baked(ousmane, fmt, tmp_path)
    page = verifier.browse.page(PHONE, javascript=javascript)
    verify_file(page, path)
    verdict(page, "Valide", ousmane)
    expect(page.locator("main")).to_contain_text("Le badge est publié à son adresse d'origine")


@JS
def test_a_photo_of_the_printed_qr_code_is_valid(
    verifier: Verifier, javascript: bool, tmp_path: Path
) -> None:
    karim = verifier.badge("karim", "conscience-professionnelle")
    photo = printed_qr_photo(karim.hosted_url, tmp_path / "photo-du-qr-code.jpg")
    before = verifier.verifications(karim)
    page = verifier.browse.page(PHONE, javascript=javascript)
    verify_file(page, photo)
    verdict(page, "Valide", karim)
    assert verifier.verifications(karim) == before + 1


@JS
def test_the_revoked_badge_s_image_says_retire_and_why(
    verifier: Verifier, javascript: bool, tmp_path: Path
) -> None:
    anticiper = verifier.badge("lea", "anticiper")
    path = verifier.baked(anticiper, "png", tmp_path)
    page = verifier.browse.page(PHONE, javascript=javascript)
    verify_file(page, path)
    verdict(page, "Retiré", anticiper)
    main = page.locator("main")
    expect(main).to_contain_text("La structure qui l'a délivré a retiré ce badge")
    reason = REVOCATION_WORDING[RevocationReason.ISSUING_ERROR]
    expect(main.get_by_text("Raison donnée par la structure :")).to_be_visible()
    expect(main).to_contain_text(reason)


@JS
def test_the_expired_badge_says_expire(verifier: Verifier, javascript: bool) -> None:
    expired = verifier.badge("karim", "qualite-du-travail", replacement=True)
    page = verifier.browse.page(PHONE, javascript=javascript)
    verify_link(page, expired.hosted_url)
    verdict(page, "Expiré", expired)
    main = page.locator("main")
    expect(main).to_contain_text("sa date de validité est passée")
    expect(main.get_by_text("Valable jusqu'au")).to_be_visible()


def world_badge(live_server: LiveServer, login: str, template: str) -> tuple[str, str]:
    """(public id, JWS) of the world's badge of ``login`` for ``template``."""
    with live_server.app.app_context():
        for assertion in db.session.scalars(
            select(Assertion).where(Assertion.revoked_at.is_(None))
        ):
            if assertion.user.login == login and assertion.badge_class.template.code == template:
                return assertion.public_id, assertion.jws
    raise AssertionError((login, template))


# The JWS were signed at issuance for the world's BASE_URL (http://localhost): they are
# checked on the plain live server, whose BASE_URL is that one (its pages' images, which
# point at http://localhost, are not looked at here).


@JS
def test_a_pasted_jws_and_a_signed_image_are_valid(
    browse: Browse, live_server: LiveServer, javascript: bool, tmp_path: Path
) -> None:
    public_id, jws = world_badge(live_server, "lea", "planifier")
    page = browse.page(PHONE, javascript=javascript)
    verify_link(page, jws)
    verdict(page, "Valide")
    expect(page.locator("main")).to_contain_text("La signature numérique est authentique")
    signed = download(
        f"{live_server.url}/badges/{public_id}/badge.png?variante=signee", tmp_path / "signe.png"
    )
    verify_file(page, signed)
    verdict(page, "Valide")
    expect(page.locator("main")).to_contain_text("La signature numérique est authentique")


@JS
def test_a_tampered_jws_has_an_invalid_signature(
    browse: Browse, live_server: LiveServer, javascript: bool
) -> None:
    _, jws = world_badge(live_server, "lea", "planifier")
    header, _, signature = jws.split(".")
    claims = jws_payload(jws)
    claims["issuedOn"] = "2020-01-01T00:00:00+00:00"  # backdated: "experience since 2020"
    forged = ".".join((header, b64url(json.dumps(claims).encode()), signature))
    page = browse.page(PHONE, javascript=javascript)
    verify_link(page, forged)
    verdict(page, "Signature invalide")
    main = page.locator("main")
    expect(main).to_contain_text("La signature numérique ne correspond pas")
    # A forged badge's claims are not shown as if they were the issuer's.
    expect(main.get_by_text("Ce qu'il atteste")).to_have_count(0)


def test_no_serious_accessibility_violation_on_the_form_and_a_result(
    verifier: Verifier,
) -> None:
    lea = verifier.badge("lea", "planifier")
    revoked = verifier.badge("lea", "anticiper")
    page = verifier.browse.page(PHONE, axe=True)
    failures: list[str] = []
    pages = {
        "/verifier": "/verifier",
        "résultat Valide": "/verifier?" + urllib.parse.urlencode({"lien": lea.hosted_url}),
        "résultat Retiré": "/verifier?" + urllib.parse.urlencode({"lien": revoked.hosted_url}),
    }
    for label, path in pages.items():
        page.set_viewport_size(PHONE)
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        for size, viewport in (("390×844", PHONE), ("1280×800", DESKTOP)):
            page.set_viewport_size(viewport)
            violations = verifier.browse.blocking_violations(page)
            if violations:
                failures.append(f"{label} at {size}:\n{format_violations(violations)}")
    assert not failures, "\n".join(failures)
