"""The badgecheck harness on hand-made Open Badges 2.0 badges, served from a local thread.

Nothing from Jalon's app: these tests prove the validator runs offline and reports what the
conformance tests of the app will rely on.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import threading
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from PIL import Image

OB_V2 = "https://w3id.org/openbadges/v2"
EMAIL = "ada@example.org"
SALT = "0f9c2a"
ISSUED_ON = "2024-03-01T09:00:00+00:00"

Badgecheck = Callable[..., dict[str, Any]]


@dataclass
class Site:
    """Documents served at ``base`` + path, and the Accept header each path was fetched with."""

    base: str = ""
    documents: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    accepts: dict[str, list[str]] = field(default_factory=dict)

    def put(self, path: str, body: dict[str, Any] | bytes, content_type: str) -> str:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.documents[path] = (content_type, data)
        return self.base + path

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    served = Site()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served.accepts.setdefault(self.path, []).append(self.headers.get("Accept", ""))
            if self.path not in served.documents:
                self.send_error(404)
                return
            content_type, body = served.documents[self.path]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()
    thread.join()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (8, 8), (30, 120, 200, 255)).save(buffer, format="PNG")
    return buffer.getvalue()


def bake_png(png: bytes, payload: str) -> bytes:
    """``png`` with ``payload`` in an uncompressed ``openbadges`` iTXt chunk after IHDR."""
    data = b"openbadges\0\0\0\0\0" + payload.encode()
    chunk = struct.pack(">I", len(data)) + b"iTXt" + data
    chunk += struct.pack(">I", zlib.crc32(b"iTXt" + data))
    end_of_ihdr = 8 + 4 + 4 + 13 + 4
    return png[:end_of_ihdr] + chunk + png[end_of_ihdr:]


def hashed_email(email: str = EMAIL, salt: str = SALT) -> dict[str, Any]:
    digest = hashlib.sha256((email + salt).encode()).hexdigest()
    return {"type": "email", "hashed": True, "salt": salt, "identity": f"sha256${digest}"}


def publish_issuer(site: Site, slug: str, **extra: Any) -> str:
    issuer_id = site.url(f"/{slug}/issuer")
    issuer = {
        "@context": OB_V2,
        "type": "Issuer",
        "id": issuer_id,
        "name": "Atelier d'essai",
        "url": site.url(f"/{slug}"),
        "email": "contact@example.org",
        **extra,
    }
    site.put(f"/{slug}/issuer", issuer, "application/ld+json")
    return issuer_id


def publish_badge_class(site: Site, slug: str, issuer_id: str) -> str:
    site.put(f"/{slug}/image.png", png_bytes(), "image/png")
    badge_class = {
        "@context": OB_V2,
        "type": "BadgeClass",
        "id": site.url(f"/{slug}/class"),
        "name": "Coopérer en équipe",
        "description": "Travaille avec les autres pour atteindre un objectif commun.",
        "image": site.url(f"/{slug}/image.png"),
        "criteria": {"narrative": "Observé en situation de travail."},
        "issuer": issuer_id,
    }
    return site.put(f"/{slug}/class", badge_class, "application/ld+json")


def assertion(assertion_id: str, badge_class_id: str, verification: dict[str, Any]) -> dict:
    return {
        "@context": OB_V2,
        "type": "Assertion",
        "id": assertion_id,
        "recipient": hashed_email(),
        "badge": badge_class_id,
        "verification": verification,
        "issuedOn": ISSUED_ON,
    }


@pytest.fixture(scope="module")
def hosted_url(site: Site) -> str:
    issuer_id = publish_issuer(site, "hosted")
    badge_class_id = publish_badge_class(site, "hosted", issuer_id)
    document = assertion(site.url("/hosted/assertion"), badge_class_id, {"type": "HostedBadge"})
    return site.put("/hosted/assertion", document, "application/ld+json")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Signed:
    jws: str
    payload: dict[str, Any]
    key: rsa.RSAPrivateKey

    def another(self) -> Signed:
        """A second assertion of the same badge class, signed with the same key."""
        payload = dict(self.payload, id=f"urn:uuid:{uuid.uuid4()}")
        return Signed(sign(payload, self.key), payload, self.key)


def sign(payload: dict[str, Any], key: rsa.RSAPrivateKey) -> str:
    signing_input = b64url(json.dumps({"alg": "RS256"}).encode()) + "."
    signing_input += b64url(json.dumps(payload).encode())
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return signing_input + "." + b64url(signature)


def publish_signed(site: Site, slug: str, **issuer_extra: Any) -> Signed:
    """An issuer with a served CryptographicKey, its badge class, and a signed assertion."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    key_id = site.url(f"/{slug}/key")
    issuer_id = publish_issuer(site, slug, publicKey=key_id, **issuer_extra)
    site.put(
        f"/{slug}/key",
        {
            "@context": OB_V2,
            "type": "CryptographicKey",
            "id": key_id,
            "owner": issuer_id,
            "publicKeyPem": pem.decode(),
        },
        "application/ld+json",
    )
    badge_class_id = publish_badge_class(site, slug, issuer_id)
    payload = assertion(
        f"urn:uuid:{uuid.uuid4()}", badge_class_id, {"type": "SignedBadge", "creator": key_id}
    )
    return Signed(sign(payload, key), payload, key)


@pytest.fixture(scope="module")
def signed(site: Site) -> Signed:
    return publish_signed(site, "signed")


def error_names(result: dict[str, Any]) -> list[str]:
    return [message["name"] for message in result["errors"]]


def test_hosted_badge_is_valid(badgecheck: Badgecheck, hosted_url: str) -> None:
    result = badgecheck(hosted_url)

    assert result["valid"], result["errors"]
    assert result["errors"] == []
    report = result["report"]["report"]
    assert report["validationSubject"] == hosted_url
    assert report["openBadgesVersion"] == "2.0"
    graph_types = sorted(node.get("type", "") for node in result["report"]["graph"])
    assert {"Assertion", "BadgeClass", "Issuer"} <= set(graph_types)


def test_hosted_badge_matches_its_recipient(badgecheck: Badgecheck, hosted_url: str) -> None:
    result = badgecheck(hosted_url, recipient=EMAIL)

    assert result["valid"], result["errors"]
    assert result["report"]["report"]["recipientProfile"] == {"email": EMAIL}


def test_wrong_recipient_fails_the_identity_check(badgecheck: Badgecheck, hosted_url: str) -> None:
    result = badgecheck(hosted_url, recipient="someone.else@example.org")

    assert not result["valid"]
    assert error_names(result) == ["VERIFY_RECIPIENT_IDENTIFIER"]
    assert "did not match assertion" in result["errors"][0]["result"]
    assert "recipientProfile" not in result["report"]["report"]


def test_validator_asks_for_json_ld_then_images(
    badgecheck: Badgecheck, site: Site, hosted_url: str
) -> None:
    site.accepts.clear()
    assert badgecheck(hosted_url)["valid"]

    wanted = "application/ld+json, application/json, image/png, image/svg+xml"
    assert site.accepts["/hosted/assertion"] == [wanted]
    assert site.accepts["/hosted/class"] == [wanted]
    assert site.accepts["/hosted/issuer"] == [wanted]
    assert site.accepts["/hosted/image.png"] == [wanted]


def test_signed_badge_is_valid(badgecheck: Badgecheck, signed: Signed) -> None:
    result = badgecheck(signed.jws, recipient=EMAIL)

    assert result["valid"], result["errors"]
    assert result["report"]["input"]["input_type"] == "jws"
    assert result["report"]["report"]["validationSubject"] == signed.payload["id"]


def test_tampered_signature_fails_verification(badgecheck: Badgecheck, signed: Signed) -> None:
    header, _, signature = signed.jws.split(".")
    forged = dict(signed.payload, recipient=hashed_email("mallory@example.org"))
    result = badgecheck(f"{header}.{b64url(json.dumps(forged).encode())}.{signature}")

    assert not result["valid"]
    assert error_names(result) == ["VERIFY_JWS"]
    assert "failed verification" in result["errors"][0]["result"]


def publish_revocations(site: Site, slug: str, revoked: list[Signed]) -> None:
    site.put(
        f"/{slug}/revocations",
        {
            "@context": OB_V2,
            "type": "RevocationList",
            "id": site.url(f"/{slug}/revocations"),
            "issuer": site.url(f"/{slug}/issuer"),
            "revokedAssertions": [
                {"id": badge.payload["id"], "revocationReason": "Délivré par erreur"}
                for badge in revoked
            ],
        },
        "application/ld+json",
    )


def test_revocation_list_revokes_signed_badges(badgecheck: Badgecheck, site: Site) -> None:
    first = publish_signed(site, "revoking", revocationList=site.url("/revoking/revocations"))
    second, kept = first.another(), first.another()
    publish_revocations(site, "revoking", [first, second])

    for revoked in (first, second):
        result = badgecheck(revoked.jws)
        assert not result["valid"]
        assert error_names(result) == ["VERIFY_SIGNED_ASSERTION_NOT_REVOKED"]
        assert "with reason: Délivré par erreur" in result["errors"][0]["result"]
    assert badgecheck(kept.jws)["valid"]


def test_known_gap_a_lone_revoked_entry_goes_unnoticed(badgecheck: Badgecheck, site: Site) -> None:
    """JSON-LD compaction turns a one-entry ``revokedAssertions`` into an object; badgecheck
    then iterates its keys and finds no match."""
    alone = publish_signed(site, "lone", revocationList=site.url("/lone/revocations"))
    publish_revocations(site, "lone", [alone])

    assert badgecheck(alone.jws)["valid"]


@pytest.mark.parametrize(
    ("kind", "identity", "near_miss"),
    [
        ("telephone", "+33612345678", "0612345678"),
        ("url", "https://exemple.fr/ada", "https://exemple.fr/ada/"),
    ],
)
def test_telephone_and_url_recipients_match_on_the_exact_string(
    badgecheck: Badgecheck, site: Site, hosted_url: str, kind: str, identity: str, near_miss: str
) -> None:
    badge_class_id = site.url("/hosted/class")
    path = f"/hosted/assertion-{kind}"
    document = assertion(site.url(path), badge_class_id, {"type": "HostedBadge"})
    digest = hashlib.sha256((identity + SALT).encode()).hexdigest()
    document["recipient"] = {
        "type": kind,
        "hashed": True,
        "salt": SALT,
        "identity": f"sha256${digest}",
    }
    url = site.put(path, document, "application/ld+json")

    assert badgecheck(url, recipient=identity)["valid"]
    missed = badgecheck(url, recipient={kind: near_miss})
    assert not missed["valid"]
    assert "VERIFY_RECIPIENT_IDENTIFIER" in error_names(missed)


def test_baked_png_is_read_from_a_file(
    badgecheck: Badgecheck, signed: Signed, tmp_path: Path
) -> None:
    baked = tmp_path / "badge.png"
    baked.write_bytes(bake_png(png_bytes(), signed.jws))

    result = badgecheck(baked, recipient=EMAIL)

    assert result["valid"], result["errors"]
    assert result["report"]["input"]["input_type"] == "jws"


def test_png_with_nothing_baked_is_reported_not_raised(
    badgecheck: Badgecheck, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.png"
    plain.write_bytes(png_bytes())

    result = badgecheck(plain)

    assert result["valid"] is False
    assert "Could not find Open Badges metadata" in result["crash"]


def test_validator_never_leaves_the_machine(badgecheck: Badgecheck, site: Site) -> None:
    issuer_id = "https://issuer.example.org/issuer"
    badge_class = {
        "@context": OB_V2,
        "type": "BadgeClass",
        "id": site.url("/remote/class"),
        "name": "Badge d'un émetteur distant",
        "description": "Son émetteur n'est pas sur cette machine.",
        "image": site.url("/hosted/image.png"),
        "criteria": {"narrative": "Aucun."},
        "issuer": issuer_id,
    }
    site.put("/remote/class", badge_class, "application/ld+json")
    document = assertion(site.url("/remote/assertion"), badge_class["id"], {"type": "HostedBadge"})
    url = site.put("/remote/assertion", document, "application/ld+json")

    result = badgecheck(url)

    assert not result["valid"]
    refused = [m for m in result["errors"] if m["name"] == "FETCH_HTTP_NODE"]
    assert len(refused) == 1
    assert f"offline validator refused {issuer_id}" in refused[0]["result"]
