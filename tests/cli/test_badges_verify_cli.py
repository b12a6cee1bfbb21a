"""``flask badges verify SOURCE [--recipient] [--json] [--offline]`` on bad input (issue #9).

The test world's badges are checked through the local database path; hostile or broken
input (``alg: none``, HS256 keyed with the public PEM, another issuer's key, a cut-short JWS,
a garbage PNG chunk, an SVG with an external entity, an oversized file) gives exit status 1
and names the failed check, never a traceback. The official validator's view of the same
attacks is in tests/conformance/test_verifier_matrix.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from app import openbadges
from app.cli import badges as badges_cli
from app.domain.badges import RevocationReason
from app.extensions import db
from app.models import Assertion, Structure
from app.openbadges import documents, signing
from app.openbadges.verifier import MAX_BYTES
from app.services import badges as badges_service
from app.services import demo, keys
from app.services.badges import Issuing
from tests.support.world import B_NAME, NOW

#: When the CLI runs: the world's "now", a day later.
TODAY = NOW + timedelta(days=1)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class WorldBadges:
    """What the tests forge from: a valid badge of structure A, and what else they need."""

    jws: str  # structure A's valid email badge
    url: str  # its hosted URL
    email: str
    a_key_pem: str
    b_key_url: str
    b_private_pem: bytes
    class_png: bytes
    revoked_url: str  # A's demo badge withdrawn for an issuing error


@pytest.fixture
def world(world_app: Flask, monkeypatch: pytest.MonkeyPatch) -> WorldBadges:
    monkeypatch.setattr(badges_cli, "utcnow", lambda: TODAY)
    issuing = Issuing.from_config(world_app.config)
    with world_app.app_context():
        session = db.session
        a = session.scalars(select(Structure).where(Structure.name == demo.DEMO_STRUCTURE)).one()
        b = session.scalars(select(Structure).where(Structure.name == B_NAME)).one()
        of_a = session.scalars(
            select(Assertion).where(Assertion.structure_id == a.id).order_by(Assertion.id)
        ).all()
        valid = next(
            x
            for x in of_a
            if x.recipient_type == "email" and x.revoked_at is None and x.expires_at is None
        )
        revoked = next(x for x in of_a if x.revocation_reason == RevocationReason.ISSUING_ERROR)
        b_key = keys.active_key(session, b)
        assert b_key is not None
        return WorldBadges(
            jws=valid.jws,
            url=issuing.urls.assertion(valid.public_id),
            email=badges_service.recipient_identity(valid.user, a, issuing.urls)[1],
            a_key_pem=valid.signing_key.public_key_pem,
            b_key_url=issuing.urls.key(b_key.public_id),
            b_private_pem=(issuing.keys_dir / b_key.private_key_file).read_bytes(),
            class_png=valid.badge_class.image_png,
            revoked_url=issuing.urls.assertion(revoked.public_id),
        )


def verify(app: Flask, source: str | Path, *options: str) -> tuple[int, Any]:
    """Run the command; its exit status and its output (parsed when ``--json``)."""
    result = app.test_cli_runner().invoke(args=["badges", "verify", str(source), *options])
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), result.exception
    output = json.loads(result.stdout) if "--json" in options else result.stdout
    return result.exit_code, output


def failing(report: dict[str, Any]) -> list[str]:
    return [check["code"] for check in report["checks"] if not check["ok"]]


def reasons(report: dict[str, Any]) -> str:
    return " ".join(check["reason"] for check in report["checks"] if not check["ok"])


# ------------------------------------------------------------------------------ the inputs


def alg_none(world: WorldBadges, folder: Path) -> str:
    _header, payload, _signature = world.jws.split(".")
    header = b64url(b'{"alg":"none"}')
    return f"{header}.{payload}."


def hs256(world: WorldBadges, folder: Path) -> str:
    """HMAC-SHA256 keyed with the issuer's public PEM: the RS256/HS256 confusion attack."""
    _header, payload, _signature = world.jws.split(".")
    header = b64url(b'{"alg":"HS256"}')
    mac = hmac.new(world.a_key_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{b64url(mac.digest())}"


def other_issuers_key(world: WorldBadges, folder: Path) -> str:
    """A's assertion rebuilt with the library, naming B's key and signed with it."""
    claims = openbadges.parse_jws(world.jws)[1]
    document = documents.assertion(
        id=claims["id"],
        badge_class_id=claims["badge"],
        recipient=claims["recipient"],
        issued_on=datetime.fromisoformat(claims["issuedOn"]),
        verification=documents.verification_signed(world.b_key_url),
        evidence_narrative=claims["evidence"]["narrative"],
    )
    return signing.sign(document, openbadges.load_private_key(world.b_private_pem))


def file(name: str, content: Callable[[WorldBadges], bytes]) -> Callable[..., Path]:
    def make(world: WorldBadges, folder: Path) -> Path:
        path = folder / name
        path.write_bytes(content(world))
        return path

    return make


def xxe_svg(world: WorldBadges) -> bytes:
    return (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE svg [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="http://openbadges.org">'
        f'<openbadges:assertion verify="{world.url}">&xxe;</openbadges:assertion></svg>'
    ).encode()


#: (input, failing check, words of its reason).
BAD_INPUT: dict[str, tuple[Callable[[WorldBadges, Path], str | Path], str, str]] = {
    "alg-none": (alg_none, "signature", "JWS algorithm 'none' refused"),
    "hs256-with-the-public-pem": (hs256, "signature", "JWS algorithm 'HS256' refused"),
    "signed-with-another-issuers-key": (other_issuers_key, "key_owner", "not to the issuer"),
    "jws-cut-in-its-payload": (
        lambda world, _: world.jws[: len(world.jws) // 2],
        "input",
        "looks like a compact JWS cut short",
    ),
    "jws-signature-cut-by-one-character": (
        lambda world, _: world.jws[:-1],
        "input",
        "is not a readable JWS",
    ),
    "jws-signature-cut-by-two-characters": (
        lambda world, _: world.jws[:-2],
        "signature",
        "does not verify with the key",
    ),
    "png-chunk-of-garbage": (
        file("badge.png", lambda world: openbadges.bake_png(world.class_png, "n'importe quoi")),
        "input",
        "is not a badge",
    ),
    "svg-with-an-external-entity": (
        file("badge.svg", xxe_svg),
        "input",
        "unsafe SVG refused",
    ),
    "oversized-file": (
        file("badge.json", lambda world: b"{" + b" " * MAX_BYTES + b"}"),
        "input",
        f"more than the {MAX_BYTES} accepted",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_exits_1_naming_the_failed_check(
    world_app: Flask, world: WorldBadges, tmp_path: Path, case: str
) -> None:
    make, check, reason = BAD_INPUT[case]

    status, report = verify(world_app, make(world, tmp_path), "--json", "--offline")

    assert status == 1
    assert report["valid"] is False
    assert failing(report) == [check], report["checks"]
    assert reason in reasons(report)
    assert "root:" not in reasons(report)


def test_a_valid_badge_exits_0(world_app: Flask, world: WorldBadges) -> None:
    status, report = verify(world_app, world.jws, "--recipient", world.email, "--json", "--offline")

    assert status == 0
    assert report["valid"] is True
    assert report["method"] == "signed"
    assert failing(report) == []
    assert [check["code"] for check in report["checks"]][-1] == "recipient"


def test_a_withdrawn_badge_exits_1_by_its_url(world_app: Flask, world: WorldBadges) -> None:
    status, report = verify(world_app, world.revoked_url, "--json", "--offline")

    assert status == 1
    assert report["method"] == "hosted"
    assert failing(report) == ["not_revoked"]
    assert "Erreur de délivrance" in reasons(report)


def test_the_text_report_names_the_failed_check(
    world_app: Flask, world: WorldBadges, tmp_path: Path
) -> None:
    status, output = verify(world_app, hs256(world, tmp_path), "--offline")

    lines = output.strip().splitlines()
    assert status == 1
    assert lines[-1] == "INVALID"
    assert [line.split()[:2] for line in lines[:-1]] == [
        ["ok", "input"],
        ["FAIL", "signature"],
    ]
