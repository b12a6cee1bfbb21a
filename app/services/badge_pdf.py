"""Printable badges (SHR-05): one A4 page per badge, and a passport of the badges chosen.

Every badge carries a large QR code (at least 4 cm, with its quiet zone) to its hosted
address, and the address in text. Text is pure black on white and no meaning rests on
colour, so a black-and-white print reads the same. Long texts shrink, then are cut with
"…", so that a badge always stays on one page. The shipped DejaVu fonts print every
French character ("œ", "’", "·"). The same sheet gives the same bytes: the PDF's dates
come from the data, never from the clock.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import MethodReturnValue, WrapMode
from PIL import Image

from app.domain.badges import MONTHS_FR
from app.domain.consent import earner_name
from app.models import Assertion
from app.services.badges import badge_class_document, level_label, revocation_wording
from app.services.public_urls import PublicUrls
from app.services.qr import make_qr_png

FONTS = Path(__file__).resolve().parent.parent / "static" / "fonts"
FONT = "DejaVu"
PT = 25.4 / 72  # millimetres per typographic point
A4_WIDTH, A4_HEIGHT = 210.0, 297.0
#: Same words as the badge's public page: a badge is recognition, not a qualification.
NOT_A_DIPLOMA = (
    "Ce badge numérique n'est ni un diplôme ni une certification : il reconnaît une "
    "compétence montrée au travail, observée et vérifiée par la structure."
)
HOW_TO_VERIFY = "Scannez le code QR avec un téléphone, ou ouvrez cette adresse :"
WHAT_THE_PAGE_SAYS = (
    "La page indique si le badge numérique est valide, expiré ou retiré, et qui l'a délivré."
)
QR_BOX = 10  # pixels per module in the PNG; the PDF scales it
QR_BORDER = 4  # modules of quiet zone on each side (the QR standard's minimum)
ELLIPSIS = "…"


@dataclass(frozen=True)
class BadgeSheet:
    """What a printed badge shows: plain data, no database row."""

    public_id: str
    name: str
    level_label: str | None
    image_png: bytes
    issuer: str
    issued_on: date
    expires_on: date | None
    attests: str
    evidence: str
    url: str
    #: ``valid``, ``expired`` or ``revoked`` on ``status_on``, and its plain words.
    state: str
    status: str
    status_on: date
    #: Only when the worker chose to show their name (app.domain.consent).
    earner: str | None = None
    contact: str | None = None


def day_fr(day: date) -> str:
    """« 2 novembre 2026 »."""
    return f"{'1er' if day.day == 1 else day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def status_words(state: str, *, expires_on: date | None, reason: str | None) -> str:
    """« Valide », « Expiré depuis le … » or « Retiré — reason », as the public page says it."""
    if state == "revoked":
        return f"Retiré — {reason}" if reason else "Retiré"
    if state == "expired":
        return f"Expiré depuis le {day_fr(expires_on)}" if expires_on else "Expiré"
    return "Valide"


def sheet_for(assertion: Assertion, urls: PublicUrls, now: datetime) -> BadgeSheet:
    """The printable facts of an issued badge, its state as of ``now``."""
    badge_class = assertion.badge_class
    structure = assertion.structure
    zone = ZoneInfo(structure.timezone)
    document = badge_class_document(badge_class, urls)
    expires_on = assertion.expires_at.astimezone(zone).date() if assertion.expires_at else None
    state = assertion.state(now)
    label = level_label(badge_class.template, badge_class.level)
    level = None
    if badge_class.template.kind == "competence":
        level = f"Niveau {badge_class.level}" + (f" — {label}" if label else "")
    user = assertion.user
    contact = " · ".join(c for c in (structure.email, structure.url) if c) or None
    return BadgeSheet(
        public_id=assertion.public_id,
        name=document["name"],
        level_label=level,
        image_png=badge_class.image_png,
        issuer=structure.issuer_display_name,
        issued_on=assertion.issued_on.astimezone(zone).date(),
        expires_on=expires_on,
        # The words of the badge's public page (SHR-02): what an employer reads online.
        attests=document["description"],
        evidence=assertion.evidence,
        url=urls.assertion(assertion.public_id),
        state=state,
        status=status_words(state, expires_on=expires_on, reason=revocation_wording(assertion)),
        status_on=now.astimezone(zone).date(),
        earner=earner_name(user.first_name, user.last_name, assertion.earner_name),
        contact=contact,
    )


# -- Drawing ------------------------------------------------------------------------------


class _Pdf(FPDF):
    """A4 portrait, DejaVu, black on white, manual layout (no automatic page breaks)."""

    footer_text = ""

    def __init__(self, *, title: str, created: date) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_auto_page_break(False)
        self.set_margins(0, 0, 0)
        self.c_margin = 0
        self.set_text_color(0)
        self.set_draw_color(0)
        self.set_title(title)
        self.set_lang("fr")
        self.set_creator("Jalon")
        self.set_creation_date(datetime.combine(created, time(), tzinfo=UTC))

    def footer(self) -> None:
        if self.footer_text:
            self.set_font(FONT, "", 8)
            self.set_text_color(0)
            self.set_xy(12, A4_HEIGHT - 10)
            self.cell(A4_WIDTH - 24, 4, f"{self.footer_text} — page {self.page_no()}/{{nb}}")

    def lines(self, text: str, width: float, size: float, style: str = "") -> list[str]:
        """``text`` wrapped to ``width`` mm at ``size`` pt (explicit line breaks kept)."""
        if not text.strip():
            return []
        self.set_font(FONT, style, size)
        found = self.multi_cell(
            width,
            text=text.strip(),
            align="L",
            dry_run=True,
            output=MethodReturnValue.LINES,
            wrapmode=WrapMode.WORD,
        )
        return [str(line) for line in found]

    def clipped(self, lines: list[str], max_lines: int, width: float) -> list[str]:
        """At most ``max_lines`` lines; a cut ends with "…" on a whole word where possible."""
        if len(lines) <= max_lines:
            return lines
        if max_lines <= 0:
            return []
        kept = lines[:max_lines]
        last = kept[-1].rstrip()
        while last and self.get_string_width(last + ELLIPSIS) > width:
            last = last[: last.rfind(" ")] if " " in last else last[:-1]
        kept[-1] = last.rstrip(" ,;:.—-") + ELLIPSIS
        return kept

    def fitted(
        self, text: str, width: float, sizes: Sequence[float], max_lines: int, style: str = ""
    ) -> tuple[float, list[str]]:
        """The largest size at which ``text`` fits in ``max_lines``, else cut at the smallest."""
        for size in sizes:
            found = self.lines(text, width, size, style)
            if len(found) <= max_lines:
                return size, found
        size = sizes[-1]
        return size, self.clipped(self.lines(text, width, size, style), max_lines, width)

    def write_lines(
        self, x: float, y: float, width: float, lines: Sequence[str], size: float, style: str = ""
    ) -> float:
        """Draws ``lines`` from ``y``; returns the y below them."""
        self.set_font(FONT, style, size)
        height = leading(size)
        for i, line in enumerate(lines):
            self.set_xy(x, y + i * height)
            self.cell(width, height, line)
        return y + len(lines) * height

    def badge_image(self, sheet: BadgeSheet, x: float, y: float, side: float) -> None:
        self.image(
            io.BytesIO(sheet.image_png),
            x=x,
            y=y,
            w=side,
            h=side,
            keep_aspect_ratio=True,
            alt_text=f"Image du badge : {sheet.name}",
        )

    def qr(self, url: str, x: float, y: float, symbol: float) -> float:
        """The QR code of ``url``: the code itself ``symbol`` mm wide, plus its quiet zone.

        Returns the drawn width (quiet zone included)."""
        png = make_qr_png(url, box_size=QR_BOX, border=QR_BORDER)
        modules = Image.open(io.BytesIO(png)).width // QR_BOX
        side = symbol * modules / (modules - 2 * QR_BORDER)
        self.image(
            io.BytesIO(png),
            x=x,
            y=y,
            w=side,
            h=side,
            alt_text=f"Code QR vers l'adresse du badge : {url}",
        )
        return side

    def rule(self, y: float, x1: float, x2: float) -> None:
        self.set_line_width(0.3)
        self.line(x1, y, x2, y)


def leading(size: float) -> float:
    """Line height in mm for a font size in points."""
    return size * PT * 1.3


def _facts(sheet: BadgeSheet, *, contact: bool = True) -> list[tuple[str, str]]:
    facts = [("Délivré par", sheet.issuer), ("Délivré le", day_fr(sheet.issued_on))]
    facts.append(
        (
            "Valable",
            f"jusqu'au {day_fr(sheet.expires_on)}" if sheet.expires_on else "sans date de fin",
        )
    )
    facts.append(("État", f"{sheet.status} (état au {day_fr(sheet.status_on)})"))
    if sheet.earner:
        facts.append(("Titulaire", sheet.earner))
    if contact and sheet.contact:
        facts.append(("Contact", sheet.contact))
    return facts


def _draw_facts(
    pdf: _Pdf,
    facts: Sequence[tuple[str, str]],
    *,
    x: float,
    y: float,
    label_width: float,
    width: float,
    size: float,
) -> float:
    """Label (bold) and value columns, each value on two lines at most; returns the y below."""
    value_width = width - label_width
    for label, value in facts:
        label_lines = pdf.clipped(
            pdf.lines(label, label_width - 2, size - 0.5, "B"), 2, label_width - 2
        )
        value_lines = pdf.clipped(pdf.lines(value, value_width, size), 2, value_width)
        pdf.write_lines(x, y, label_width - 2, label_lines, size - 0.5, "B")
        bottom = pdf.write_lines(x + label_width, y, value_width, value_lines, size)
        y = max(bottom, y + len(label_lines) * leading(size - 0.5)) + 1.2
    return y


def _sections(sheet: BadgeSheet) -> list[tuple[str, str]]:
    return [
        (heading, text)
        for heading, text in (
            ("Ce qu'il atteste", sheet.attests),
            ("Comment il a été obtenu", sheet.evidence),
        )
        if text.strip()
    ]


def _share(needs: Sequence[int], total: int) -> list[int]:
    """Split ``total`` lines between sections: none gets more than it needs, none fewer than
    one, the rest shared evenly (a short text leaves its unused lines to the long one)."""
    given = [0] * len(needs)
    left = max(total, len(needs))
    pending = [i for i, need in enumerate(needs) if need > 0]
    while pending and left > 0:
        fair = max(left // len(pending), 1)
        for i in sorted(pending, key=lambda i: needs[i]):
            extra = min(needs[i] - given[i], fair, left)
            given[i] += extra
            left -= extra
        pending = [i for i in pending if given[i] < needs[i]]
    return given


def _draw_sections(
    pdf: _Pdf,
    sections: Sequence[tuple[str, str]],
    *,
    x: float,
    y: float,
    width: float,
    bottom: float,
    sizes: Sequence[float],
) -> float:
    """Headed paragraphs between ``y`` and ``bottom``: shrunk until they fit, else cut."""
    if not sections:
        return y
    gap = 2.5
    for size in sizes:
        heading_h = leading(size + 0.5) + 0.8
        wrapped = [pdf.lines(text, width, size) for _, text in sections]
        height = sum(heading_h + len(w) * leading(size) + gap for w in wrapped)
        if height <= bottom - y:
            break
    room = bottom - y - len(sections) * (heading_h + gap)
    counts = _share([len(w) for w in wrapped], int(room // leading(size)))
    for (heading, _), lines, count in zip(sections, wrapped, counts, strict=True):
        y = pdf.write_lines(x, y, width, [heading], size + 0.5, "B") + 0.8
        y = pdf.write_lines(x, y, width, pdf.clipped(lines, count, width), size) + gap
    return y


# -- One badge -----------------------------------------------------------------------------

MARGIN = 15.0


def badge_pdf(sheet: BadgeSheet) -> bytes:
    """One A4 page: the badge, what it attests, how it was earned, and a QR code to verify it."""
    pdf = _Pdf(title=f"Badge numérique — {sheet.name}", created=sheet.status_on)
    pdf.set_author(sheet.issuer)
    pdf.set_subject("Badge numérique Open Badges 2.0 et son adresse de vérification")
    pdf.add_page()
    width = A4_WIDTH - 2 * MARGIN
    right = A4_WIDTH - MARGIN
    y = pdf.write_lines(MARGIN, MARGIN, width, ["BADGE NUMÉRIQUE"], 10, "B") + 1
    size, title = pdf.fitted(sheet.name, width, (20, 17, 14), 2, "B")
    y = pdf.write_lines(MARGIN, y, width, title, size, "B") + 1
    if sheet.level_label:
        level = pdf.clipped(pdf.lines(sheet.level_label, width, 12), 2, width)
        y = pdf.write_lines(MARGIN, y, width, level, 12)
    y += 4
    image_side = 50.0
    pdf.badge_image(sheet, MARGIN, y, image_side)
    facts_x = MARGIN + image_side + 7
    facts_bottom = _draw_facts(
        pdf, _facts(sheet), x=facts_x, y=y + 1, label_width=36, width=right - facts_x, size=10
    )
    y = max(y + image_side, facts_bottom) + 5

    # The verification zone is anchored to the bottom of the page; the texts fill the rest.
    qr_symbol = 45.0
    zone_top = A4_HEIGHT - MARGIN - qr_symbol * 1.25 - 2
    _draw_sections(
        pdf, _sections(sheet), x=MARGIN, y=y, width=width, bottom=zone_top - 5, sizes=(11, 10, 9)
    )
    pdf.rule(zone_top - 2, MARGIN, right)
    qr_side = pdf.qr(sheet.url, MARGIN - 2, zone_top, qr_symbol)
    text_x = MARGIN + qr_side + 2
    text_width = right - text_x
    ty = (
        pdf.write_lines(text_x, zone_top + 3, text_width, ["Vérifier ce badge numérique"], 12, "B")
        + 1
    )
    ty = pdf.write_lines(text_x, ty, text_width, pdf.lines(HOW_TO_VERIFY, text_width, 10), 10)
    ty = _draw_url(pdf, sheet.url, text_x, ty + 1, text_width, 10)
    ty = pdf.write_lines(
        text_x, ty + 1, text_width, pdf.lines(WHAT_THE_PAGE_SAYS, text_width, 9), 9
    )
    ty = pdf.write_lines(
        text_x, ty + 1, text_width, pdf.lines(f"Identifiant : {sheet.public_id}", text_width, 8), 8
    )
    pdf.write_lines(
        text_x, ty + 3, text_width, pdf.lines(NOT_A_DIPLOMA, text_width, 9, "B"), 9, "B"
    )
    assert pdf.page == 1
    return bytes(pdf.output())


def _draw_url(pdf: _Pdf, url: str, x: float, y: float, width: float, size: float) -> float:
    """The address in bold, broken anywhere if it is longer than a line, and a link."""
    pdf.set_font(FONT, "B", size)
    found = pdf.multi_cell(
        width,
        text=url,
        align="L",
        dry_run=True,
        output=MethodReturnValue.LINES,
        wrapmode=WrapMode.CHAR,
    )
    lines = pdf.clipped([str(line) for line in found], 3, width)
    bottom = pdf.write_lines(x, y, width, lines, size, "B")
    pdf.link(x, y, width, bottom - y, url)
    return bottom


# -- Passport ------------------------------------------------------------------------------

PASSPORT_MARGIN = 12.0
BADGES_PER_PAGE = 2
PASSPORT_INTRO = (
    "Chaque badge numérique de ce passeport reconnaît une compétence montrée au travail, "
    "observée à plusieurs reprises et vérifiée par la structure qui l'a délivré. "
    "Un badge numérique n'est ni un diplôme ni une certification. "
    "Pour vérifier un badge numérique, scannez son code QR ou ouvrez son adresse : la page indique "
    "s'il est valide, expiré ou retiré."
)


def passport_pdf(
    sheets: Sequence[BadgeSheet], *, owner_name: str | None, generated_on: date
) -> bytes:
    """The « passeport de compétences »: the chosen badges, two per page, each with its QR."""
    if not sheets:
        raise ValueError("a passport needs at least one badge")
    title = "Passeport de compétences" + (f" de {owner_name}" if owner_name else "")
    pdf = _Pdf(title=title, created=generated_on)
    if owner_name:
        pdf.set_author(owner_name)
    pdf.set_subject("Badges numériques Open Badges 2.0 et leurs adresses de vérification")
    pdf.footer_text = title
    margin = PASSPORT_MARGIN
    width = A4_WIDTH - 2 * margin
    bottom = A4_HEIGHT - 14
    pdf.add_page()
    y = pdf.write_lines(margin, margin, width, ["Passeport de compétences"], 22, "B")
    if owner_name:
        y = pdf.write_lines(
            margin, y, width, pdf.clipped(pdf.lines(owner_name, width, 14), 1, width), 14
        )
    plural = "s" if len(sheets) > 1 else ""
    count = f"{len(sheets)} badge{plural} numérique{plural}"
    y = pdf.write_lines(margin, y + 1, width, [f"Édité le {day_fr(generated_on)} · {count}"], 10)
    y = pdf.write_lines(margin, y + 2, width, pdf.lines(PASSPORT_INTRO, width, 9.5), 9.5) + 3
    for start in range(0, len(sheets), BADGES_PER_PAGE):
        if start:
            pdf.add_page()
            y = margin
        height = (bottom - y) / BADGES_PER_PAGE - 2
        for sheet in sheets[start : start + BADGES_PER_PAGE]:
            _passport_block(pdf, sheet, y=y, height=height, margin=margin, width=width)
            y += height + 2
    return bytes(pdf.output())


def _passport_block(
    pdf: _Pdf, sheet: BadgeSheet, *, y: float, height: float, margin: float, width: float
) -> None:
    """One badge in ``height`` mm: image, name and facts, QR code, texts, address."""
    right = margin + width
    pdf.rule(y, margin, right)
    top = y + 3
    qr_symbol = 40.0
    qr_side = pdf.qr(sheet.url, right - qr_symbol * 1.25 + 2, top, qr_symbol)
    qr_left = right - qr_side + 2
    image_side = 30.0
    pdf.badge_image(sheet, margin, top, image_side)
    x = margin + image_side + 4
    column = qr_left - x - 2
    size, name = pdf.fitted(sheet.name, column, (13, 11.5, 10), 2, "B")
    ty = pdf.write_lines(x, top, column, name, size, "B")
    if sheet.level_label:
        ty = pdf.write_lines(
            x, ty, column, pdf.clipped(pdf.lines(sheet.level_label, column, 9.5), 1, column), 9.5
        )
    facts_bottom = _draw_facts(
        pdf, _facts(sheet, contact=False), x=x, y=ty + 1.5, label_width=27, width=column, size=8.5
    )
    texts_top = max(top + qr_side, facts_bottom) + 1
    url_top = y + height - 7
    _draw_sections(
        pdf,
        _sections(sheet),
        x=margin,
        y=texts_top,
        width=width,
        bottom=url_top - 1,
        sizes=(9, 8.5, 8),
    )
    pdf.set_font(FONT, "B", 8.5)
    label = "Vérifier ce badge : "
    pdf.set_xy(margin, url_top)
    pdf.cell(pdf.get_string_width(label), leading(8.5), label)
    pdf.set_font(FONT, "", 8.5)
    url_width = width - pdf.get_string_width(label)
    pdf.cell(url_width, leading(8.5), pdf.clipped([sheet.url], 1, url_width)[0], link=sheet.url)
