"""The worker's export (SHR-07): one ZIP, every badge unbakes back to its assertion.

The baked PNG and SVG in the archive are the bytes of the public download, the JSON and
JWS are the hosted and signed documents, the PDFs are PDFs, and every name in the archive
is plain ASCII with no way out of its folder.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import openbadges
from app.extensions import db
from app.models import Assertion, User
from app.services import badges
from app.services.badge_export import PASSPORT, README, export_archive, folder_name, slug
from app.services.public_urls import PublicUrls
from tests.support.world import BASE_URL, NOW

URLS = PublicUrls(BASE_URL)
LATER = NOW + timedelta(days=10)
FILES = {"badge.png", "badge.svg", "badge.pdf", "assertion.json", "badge.json", "assertion.jws"}
SAFE_NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-[A-Za-z0-9_-]+/[a-z]+\.[a-z]+")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Travailler en équipe — niveau 3", "travailler-en-equipe-niveau-3"),
        ("Mise en œuvre · « Æsthétique »", "mise-en-oeuvre-aesthetique"),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows\\system32", "c-windows-system32"),
        ("日本語", "badge"),
        ("", "badge"),
        ("a" * 200, "a" * 60),
    ],
)
def test_slugs_are_short_lowercase_ascii(text, expected):
    assert slug(text) == expected


def _the_worker_with_most_badges(session: Session) -> tuple[User, list[Assertion]]:
    user_id = session.scalar(
        select(Assertion.user_id)
        .group_by(Assertion.user_id)
        .order_by(func.count().desc(), Assertion.user_id)
        .limit(1)
    )
    owner = session.get(User, user_id)
    assert owner is not None
    held = list(session.scalars(select(Assertion).where(Assertion.user_id == user_id)))
    assert len(held) >= 2
    return owner, held


def _pages(pdf: bytes, tmp_path: Path) -> int:
    path = tmp_path / "x.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)$", out, re.M).group(1))  # type: ignore[union-attr]


@pytest.mark.db
def test_every_badge_unbakes_back_to_its_assertion(db_session, tmp_path):
    owner, held = _the_worker_with_most_badges(db_session)
    data = export_archive(held, urls=URLS, owner=owner, now=LATER)
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.testzip() is None
    names = archive.namelist()
    assert names[:2] == [README, PASSPORT]
    for assertion in held:
        name = badges.badge_class_document(assertion.badge_class, URLS)["name"]
        folder = folder_name(assertion, name)
        assert folder == f"{slug(name)}-{assertion.public_id}"
        assert {n.removeprefix(folder + "/") for n in names if n.startswith(folder + "/")} == FILES
        hosted = badges.assertion_document(assertion, URLS)

        png = archive.read(f"{folder}/badge.png")
        assert png == badges.baked_file(assertion, URLS, "png")
        assert json.loads(openbadges.unbake_png(png) or "null") == hosted
        svg = archive.read(f"{folder}/badge.svg")
        assert svg == badges.baked_file(assertion, URLS, "svg")
        assert json.loads(openbadges.unbake_svg(svg) or "null") == hosted

        assert json.loads(archive.read(f"{folder}/assertion.json")) == hosted
        assert json.loads(archive.read(f"{folder}/badge.json")) == badges.badge_class_document(
            assertion.badge_class, URLS
        )
        assert archive.read(f"{folder}/assertion.jws").decode().strip() == assertion.jws
        pdf = archive.read(f"{folder}/badge.pdf")
        assert pdf.startswith(b"%PDF-") and _pages(pdf, tmp_path) == 1
    passport = archive.read(PASSPORT)
    assert passport.startswith(b"%PDF-")
    assert _pages(passport, tmp_path) == (len(held) + 1) // 2

    guide = archive.read(README).decode("utf-8")
    assert f"{BASE_URL}/verifier" in guide
    assert "n'est ni un diplôme ni une certification" in guide
    for assertion in held:
        assert URLS.assertion(assertion.public_id) in guide


@pytest.mark.db
def test_names_are_safe_and_the_archive_is_deterministic(db_session):
    owner, held = _the_worker_with_most_badges(db_session)
    data = export_archive(held, urls=URLS, owner=owner, now=LATER)
    assert export_archive(list(reversed(held)), urls=URLS, owner=owner, now=LATER) == data
    archive = zipfile.ZipFile(io.BytesIO(data))
    for info in archive.infolist():
        name = info.filename
        assert name.isascii() and "\\" not in name and ".." not in name.split("/")
        assert not name.startswith("/") and ":" not in name
        assert name in (README, PASSPORT) or SAFE_NAME.fullmatch(name), name
        # The export's time, not the clock, in the structure's zone (09:00 UTC is 10:00 in Paris).
        assert info.date_time == (2026, 11, 12, 10, 0, 0)


@pytest.mark.db
def test_an_empty_export_still_explains_itself(db_session):
    owner, _ = _the_worker_with_most_badges(db_session)
    archive = zipfile.ZipFile(io.BytesIO(export_archive([], urls=URLS, owner=owner, now=LATER)))
    assert archive.namelist() == [README]
    assert "0 badge numérique" in archive.read(README).decode("utf-8")


def test_the_download_and_the_export_bake_the_same_bytes(world_app: Flask):
    client = world_app.test_client()
    with world_app.app_context():
        found = db.session.scalars(
            select(Assertion).where(Assertion.consent == "accepted").order_by(Assertion.id)
        ).first()
        assert found is not None
        expected = {
            (fmt, signed): badges.baked_file(found, URLS, fmt, signed=signed)
            for fmt in ("png", "svg")
            for signed in (False, True)
        }
        pid = found.public_id
    for (fmt, signed), body in expected.items():
        suffix = "?variante=signee" if signed else ""
        response = client.get(f"/badges/{pid}/badge.{fmt}{suffix}")
        assert response.status_code == 200
        assert response.data == body
    with pytest.raises(ValueError):
        with world_app.app_context():
            badges.baked_file(db.session.get(Assertion, found.id), URLS, "gif")
