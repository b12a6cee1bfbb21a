"""Printable badges (SHR-05): the QR code decodes from the rendered page, in grey too.

Pages are rendered with poppler's ``pdftoppm`` (Debian poppler-utils, ``make system-deps``)
and read back with the same QR decoder as the verification page; text is extracted with
``pdftotext``. A badge stays on one page whatever the length of its texts.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.consent import EarnerName
from app.models import Assertion
from app.services import badges
from app.services.artwork import render_artwork
from app.services.badge_pdf import BadgeSheet, badge_pdf, day_fr, passport_pdf, sheet_for
from app.services.public_urls import PublicUrls
from app.services.qr import decode_qr
from tests.support.world import BASE_URL, NOW

URLS = PublicUrls(BASE_URL)
DPI = 150
LONG = "Texte très long, avec l’œuvre collective · " * 300
ART = render_artwork(title="Travailler en équipe", level=3, level_label=None, picto_svg=None).png


def sheet(public_id: str = "Qx7-abc_DEF0123456789z", **changes: object) -> BadgeSheet:
    base = BadgeSheet(
        public_id=public_id,
        name="Travailler en équipe — niveau 3",
        level_label="Niveau 3 — Mobilisable en situation de travail",
        image_png=ART,
        issuer="Les Jardins d’Avenir",
        issued_on=date(2026, 11, 2),
        expires_on=None,
        attests=(
            "Ce badge numérique atteste que la personne aide ses collègues et met en œuvre "
            "ce qu’on attend d’elle. Il n'est ni un diplôme ni une certification."
        ),
        evidence="Compétence observée 4 fois au niveau 3 ou plus, par 2 personnes.",
        url=URLS.assertion(public_id),
        state="valid",
        status="Valide",
        status_on=date(2026, 11, 3),
        earner=None,
        contact=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def pages_of(pdf: bytes, tmp_path: Path, *, gray: bool = False) -> list[bytes]:
    """Every page of ``pdf`` as a PNG at ``DPI``, in colour or in shades of grey.

    Grey pages are rendered to PGM (8-bit grey, as a black-and-white print sees the page),
    then handed over as PNG like a scanned page.
    """
    source = tmp_path / "in.pdf"
    source.write_bytes(pdf)
    out = tmp_path / ("grey" if gray else "page")
    fmt = ["-gray"] if gray else ["-png"]
    subprocess.run(["pdftoppm", "-r", str(DPI), *fmt, str(source), str(out)], check=True)
    ext = "pgm" if gray else "png"
    files = sorted(tmp_path.glob(f"{out.name}-*.{ext}"), key=lambda p: int(p.stem.split("-")[-1]))
    pages = []
    for file in files:
        image = Image.open(file)
        assert image.mode == ("L" if gray else "RGB")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pages.append(buffer.getvalue())
    return pages


def text_of(pdf: bytes, tmp_path: Path) -> str:
    source = tmp_path / "text.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(source), "-"], check=True, capture_output=True
    )
    return " ".join(done.stdout.decode("utf-8").split())


def info_of(pdf: bytes, tmp_path: Path) -> dict[str, str]:
    source = tmp_path / "info.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(["pdfinfo", str(source)], check=True, capture_output=True)
    pairs = (line.split(":", 1) for line in done.stdout.decode("utf-8").splitlines())
    return {key.strip(): value.strip() for key, value in pairs}


def qr_texts(png: bytes) -> list[str]:
    """Every QR code found on a rendered page (a passport page holds two)."""
    found = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    return sorted(code.text for code in found if code.valid)


def qr_width_mm(png: bytes) -> float:
    """Width of the dark part of the only QR code on a page (its symbol, quiet zone excluded)."""
    (code,) = zxingcpp.read_barcodes(
        Image.open(io.BytesIO(png)), formats=zxingcpp.BarcodeFormat.QRCode
    )
    xs = [code.position.top_left.x, code.position.top_right.x]
    return (max(xs) - min(xs)) * 25.4 / DPI


def test_a_badge_page_decodes_to_its_hosted_address_in_colour_and_in_grey(tmp_path):
    one = sheet()
    pdf = badge_pdf(one)
    assert pdf.startswith(b"%PDF-")
    (page,) = pages_of(pdf, tmp_path)
    assert decode_qr(page) == one.url
    (grey,) = pages_of(pdf, tmp_path, gray=True)
    assert decode_qr(grey) == one.url
    # Large enough to scan from paper: at least 4 cm without the quiet zone.
    assert qr_width_mm(page) >= 40


def test_a_badge_page_says_what_an_employer_needs_and_prints_french_characters(tmp_path):
    one = sheet(earner="Karim B.", contact="contact@jardins.example")
    text = text_of(badge_pdf(one), tmp_path)
    for expected in (
        "BADGE NUMÉRIQUE",
        one.name,
        one.level_label,
        "Les Jardins d’Avenir",
        "2 novembre 2026",
        "Valide (état au 3 novembre 2026)",
        "sans date de fin",
        "Ce qu'il atteste",
        "met en œuvre ce qu’on attend",
        "Comment il a été obtenu",
        one.evidence,
        "Vérifier ce badge numérique",
        one.url,
        "Karim B.",
        "contact@jardins.example",
    ):
        assert expected in text, expected
    assert "œ" in text and "’" in text
    # "diplôme" only ever in the sentence that says a badge is not one.
    assert text.count("diplôme") == len(re.findall(r"ni un diplôme ni une certification", text))
    assert "n'est ni un diplôme ni une certification" in text
    assert text.lower().count("certification") == text.count("ni une certification")


def test_without_the_workers_consent_the_page_names_nobody(tmp_path):
    text = text_of(badge_pdf(sheet(earner=None)), tmp_path)
    assert "Titulaire" not in text


def test_long_texts_shrink_and_are_cut_but_stay_on_one_page(tmp_path):
    long = sheet(
        name="Un nom de badge vraiment très long " * 8,
        level_label="Niveau 5 — " + "autonome " * 40,
        issuer="Structure " * 20,
        attests=LONG,
        evidence=LONG,
        earner="Jean-Baptiste " * 10,
        contact="contact@" + "x" * 200 + ".example",
    )
    pdf = badge_pdf(long)
    assert info_of(pdf, tmp_path)["Pages"] == "1"
    pages = pages_of(pdf, tmp_path)
    assert len(pages) == 1
    assert decode_qr(pages[0]) == long.url
    text = text_of(pdf, tmp_path)
    assert "…" in text and long.url in text
    assert "n'est ni un diplôme ni une certification" in text  # the footer zone is intact


def test_the_same_sheet_gives_the_same_bytes_with_its_metadata(tmp_path):
    one = sheet()
    pdf = badge_pdf(one)
    assert badge_pdf(one) == pdf
    info = info_of(pdf, tmp_path)
    assert info["Title"] == f"Badge numérique — {one.name}"
    assert info["CreationDate"].startswith("Tue Nov  3 ")  # the sheet's date, not the clock
    assert b"/Lang (fr)" in pdf


def test_a_passport_has_one_qr_code_per_badge_on_every_page(tmp_path):
    sheets = [
        sheet(f"badge{i:02d}-abcdefghijklmnop", name=f"Badge {i} — niveau 3") for i in range(5)
    ]
    sheets[1] = dataclasses.replace(sheets[1], attests=LONG, evidence=LONG)
    pdf = passport_pdf(sheets, owner_name="Karim Benali", generated_on=date(2026, 11, 3))
    pages = pages_of(pdf, tmp_path)
    assert len(pages) == 3  # two badges a page
    found = [qr_texts(page) for page in pages]
    assert found == [
        sorted(s.url for s in sheets[0:2]),
        sorted(s.url for s in sheets[2:4]),
        [sheets[4].url],
    ]
    grey = pages_of(pdf, tmp_path, gray=True)
    assert [qr_texts(page) for page in grey] == found
    text = text_of(pdf, tmp_path)
    assert "Passeport de compétences" in text and "Karim Benali" in text
    assert "5 badges numériques" in text and "Édité le 3 novembre 2026" in text
    assert all(s.url in text for s in sheets)
    assert text.count("diplôme") == text.count("ni un diplôme ni une certification")
    assert info_of(pdf, tmp_path)["Title"] == "Passeport de compétences de Karim Benali"
    assert passport_pdf(sheets, owner_name="Karim Benali", generated_on=date(2026, 11, 3)) == pdf


def test_a_passport_needs_a_badge_and_may_leave_out_the_name(tmp_path):
    with pytest.raises(ValueError):
        passport_pdf([], owner_name=None, generated_on=date(2026, 11, 3))
    pdf = passport_pdf([sheet()], owner_name=None, generated_on=date(2026, 11, 3))
    (page,) = pages_of(pdf, tmp_path)
    assert decode_qr(page) == sheet().url
    assert "1 badge numérique" in text_of(pdf, tmp_path)


# -- From an issued badge --------------------------------------------------------------------


def _issued(session: Session, *, revoked: bool) -> Assertion:
    condition = Assertion.revoked_at.is_not(None) if revoked else Assertion.revoked_at.is_(None)
    found = session.scalars(select(Assertion).where(condition).order_by(Assertion.id)).first()
    assert found is not None
    return found


@pytest.mark.db
def test_the_sheet_of_an_issued_badge_shows_what_its_public_page_shows(db_session, tmp_path):
    assertion = _issued(db_session, revoked=False)
    assertion.earner_name = EarnerName.INITIAL.value
    assertion.expires_at = None
    now = NOW + timedelta(days=3)
    made = sheet_for(assertion, URLS, now)
    document = badges.badge_class_document(assertion.badge_class, URLS)
    user = assertion.user
    assert made.name == document["name"]
    assert made.attests == document["description"]  # as on the public page
    assert made.evidence == assertion.evidence
    assert made.issuer == assertion.structure.issuer_display_name
    assert made.url == URLS.assertion(assertion.public_id)
    assert made.earner == f"{user.first_name} {user.last_name[0]}."
    assert (made.state, made.status, made.expires_on) == ("valid", "Valide", None)
    assert made.level_label is not None
    assert made.level_label.startswith(f"Niveau {assertion.badge_class.level} — ")
    assert made.image_png == assertion.badge_class.image_png
    pdf = badge_pdf(made)
    (page,) = pages_of(pdf, tmp_path)
    assert decode_qr(page) == URLS.assertion(assertion.public_id)
    text = text_of(pdf, tmp_path)
    assert made.earner in text and made.name in text

    assertion.earner_name = EarnerName.NONE.value
    assert sheet_for(assertion, URLS, now).earner is None


@pytest.mark.db
def test_an_expired_or_withdrawn_badge_says_so_on_paper(db_session, tmp_path):
    assertion = _issued(db_session, revoked=False)
    assertion.expires_at = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)  # 1 January in Paris
    expired = sheet_for(assertion, URLS, datetime(2027, 2, 1, tzinfo=UTC))
    assert expired.state == "expired"
    assert expired.expires_on == date(2027, 1, 1)
    assert expired.status == f"Expiré depuis le {day_fr(date(2027, 1, 1))}"
    assert "Expiré depuis le 1er janvier 2027" in text_of(badge_pdf(expired), tmp_path)

    revoked = _issued(db_session, revoked=True)
    withdrawn = sheet_for(revoked, URLS, NOW)
    reason = badges.revocation_wording(revoked)
    assert reason
    assert (withdrawn.state, withdrawn.status) == ("revoked", f"Retiré — {reason}")
    assert f"Retiré — {reason}" in text_of(badge_pdf(withdrawn), tmp_path)
