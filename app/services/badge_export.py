"""The worker's export (SHR-07): every badge they hold, as files they keep, in one ZIP.

Per badge, a folder named from the badge's name (ASCII) and its public id holds the baked
PNG and SVG (the same bytes as the public download), the one-page PDF, the hosted assertion
and its BadgeClass as JSON, and the signed JWS. At the root: a passport PDF of every badge
and ``LISEZMOI.txt``, which says in plain French what each file is and how an employer
checks a badge. The same badges at the same ``now`` give the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from app.models import Assertion, User
from app.services.badge_pdf import BadgeSheet, badge_pdf, day_fr, passport_pdf, sheet_for
from app.services.badges import assertion_document, badge_class_document, baked_file
from app.services.public_urls import PublicUrls

#: Letters NFKD does not split into ASCII (« œuvre » → « oeuvre », not « uvre »).
LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SLUG_LENGTH = 60
PASSPORT = "passeport.pdf"
README = "LISEZMOI.txt"


def slug(text: str) -> str:
    """« Travailler en équipe — niveau 3 » → ``travailler-en-equipe-niveau-3`` (ASCII only)."""
    plain = unicodedata.normalize("NFKD", text.translate(LIGATURES))
    ascii_text = plain.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:SLUG_LENGTH].strip("-") or "badge"


def folder_name(assertion: Assertion, name: str) -> str:
    """The badge's folder: its name's slug and its public id, safe on every system."""
    if not SAFE_ID.fullmatch(assertion.public_id):
        raise ValueError(f"unexpected public id: {assertion.public_id!r}")
    return f"{slug(name)}-{assertion.public_id}"


def _json(document: dict[str, Any]) -> bytes:
    return (json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def export_archive(
    assertions: Sequence[Assertion], *, urls: PublicUrls, owner: User, now: datetime
) -> bytes:
    """A ZIP of ``assertions`` (the caller passes the worker's own) with a passport and a guide."""
    ordered = sorted(assertions, key=lambda a: (a.issued_on, a.public_id))
    # A ZIP date has no time zone: readers take it as local time, so it is written in the
    # issuing structure's (UTC for an archive with no badge).
    local = now.astimezone(ZoneInfo(ordered[0].structure.timezone)) if ordered else now
    stamp = (local.year, local.month, local.day, local.hour, local.minute, local.second)
    files: list[tuple[str, bytes]] = []
    sheets: list[BadgeSheet] = []
    folders: list[str] = []
    for assertion in ordered:
        sheet = sheet_for(assertion, urls, now)
        folder = folder_name(assertion, sheet.name)
        sheets.append(sheet)
        folders.append(folder)
        files += [
            (f"{folder}/badge.png", baked_file(assertion, urls, "png")),
            (f"{folder}/badge.svg", baked_file(assertion, urls, "svg")),
            (f"{folder}/badge.pdf", badge_pdf(sheet)),
            (f"{folder}/assertion.json", _json(assertion_document(assertion, urls))),
            (f"{folder}/badge.json", _json(badge_class_document(assertion.badge_class, urls))),
            (f"{folder}/assertion.jws", assertion.jws.encode("ascii") + b"\n"),
        ]
    if sheets:
        passport = passport_pdf(
            sheets, owner_name=owner.display_name or None, generated_on=sheets[0].status_on
        )
        files.insert(0, (PASSPORT, passport))
    guide = readme(ordered, sheets, folders, urls=urls, now=now)
    files.insert(0, (README, guide.encode("utf-8")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def readme(
    assertions: Sequence[Assertion],
    sheets: Sequence[BadgeSheet],
    folders: Sequence[str],
    *,
    urls: PublicUrls,
    now: datetime,
) -> str:
    """``LISEZMOI.txt``: what the files are, and how an employer checks a badge."""
    count = len(sheets)
    plural = "s" if count > 1 else ""
    on = day_fr(sheets[0].status_on) if sheets else day_fr(now.date())
    lines = [
        "Vos badges numériques",
        "=====================",
        "",
        f"Export du {on} : {count} badge{plural} numérique{plural}.",
        "Gardez ce dossier en lieu sûr. Vous pouvez le copier sur une clé USB ou sur votre",
        "téléphone.",
        "",
        "Un badge numérique n'est ni un diplôme ni une certification : il reconnaît une",
        "compétence montrée au travail, observée et vérifiée par la structure.",
        "",
        "Ce qu'il y a dans ce dossier",
        "----------------------------",
        "",
        f"- {PASSPORT} : tous vos badges, à imprimer ou à envoyer.",
        "- Un dossier par badge, avec :",
        "  - badge.pdf : une page à imprimer. Le code QR mène à la page du badge.",
        "  - badge.png et badge.svg : l'image du badge. Les informations du badge sont",
        "    rangées dans l'image. Vous pouvez l'envoyer ou la déposer sur un site d'emploi.",
        "  - assertion.json et badge.json : les informations du badge, pour les logiciels",
        "    (format Open Badges 2.0).",
        "  - assertion.jws : la version signée par la structure, pour les logiciels.",
        "",
        "Comment un employeur vérifie un badge",
        "-------------------------------------",
        "",
        "Il n'a pas besoin de compte. Il peut :",
        "- ouvrir l'adresse du badge (elle est écrite ci-dessous et dans badge.pdf),",
        "- ou scanner le code QR de badge.pdf avec un téléphone,",
        f"- ou aller sur {urls.base}/verifier et déposer l'image badge.png ou badge.svg.",
        "La page dit si le badge est valide, expiré ou retiré, et qui l'a délivré.",
        "",
        "Vos badges",
        "----------",
    ]
    for assertion, sheet, folder in zip(assertions, sheets, folders, strict=True):
        lines += [
            "",
            f"- {sheet.name}",
            f"  Délivré par {sheet.issuer} le {day_fr(sheet.issued_on)}.",
            f"  État : {sheet.status}.",
            f"  Adresse : {sheet.url}",
            f"  Dossier : {folder}",
        ]
        if not assertion.is_public:
            lines.append(
                "  Vous n'avez pas accepté ce badge : son adresse ne répond pas. "
                "Acceptez-le dans Jalon pour qu'un employeur puisse le vérifier."
            )
    return "\n".join(lines) + "\n"
