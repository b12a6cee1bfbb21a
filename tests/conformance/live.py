"""A live Jalon for conformance tests: served on a loopback port that is also its BASE_URL.

The official validator requires a hosted assertion to live on the same host:port as its
issuer's ``id``, so the app must know its own address before it is built: ``serve`` binds
the port first, then builds the app for that base URL. Badges are issued through the real
services (manual proposal, approval), so their JWS carry the live addresses.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from app.models import Assertion, Membership, Structure
from app.services import badge_templates, consent, decisions, demo
from app.services.badges import Issuing
from tests.support.live import closing_first

JSON_LD = "application/ld+json"


@contextmanager
def serve(build: Callable[[str], Flask]) -> Iterator[tuple[Flask, str]]:
    """``(app, base_url)``: ``build(base_url)`` served on 127.0.0.1, on a port bound first."""
    built: list[Flask] = []

    def wsgi(environ: dict[str, Any], start_response: Any) -> Any:
        return built[0](environ, start_response)

    server = make_server("127.0.0.1", 0, closing_first(wsgi), threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    built.append(build(base_url))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield built[0], base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def get(url: str, accept: str = JSON_LD) -> bytes:
    """The body of a GET on the live server (an HTTP error raises)."""
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback only)
        return response.read()


def get_json(url: str) -> dict[str, Any]:
    """A JSON-LD document as the validator asks for it."""
    return json.loads(get(url))


def download(url: str, path: Path) -> Path:
    """Save the body at ``url`` (a baked badge) to ``path``."""
    path.write_bytes(get(url, accept="*/*"))
    return path


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jws_payload(jws: str) -> dict[str, Any]:
    """The (unverified) payload of a compact JWS."""
    segment = jws.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))


def members(structure: Structure) -> dict[str, Membership]:
    """The structure's memberships by login."""
    return {m.user.login: m for m in structure.memberships}


def structure_named(session: Session, name: str) -> Structure:
    found = session.scalar(select(Structure).where(Structure.name == name))
    assert found is not None, name
    return found


def issue_manual(
    session: Session,
    structure: Structure,
    *,
    author: str,
    validator: str,
    worker: str,
    template: str,
    level: int,
    issuing: Issuing,
    now: datetime,
    expires_at: datetime | None = None,
    accepted: bool = True,
) -> Assertion:
    """A manual proposal by ``author`` approved by ``validator`` at ``now``: the issued
    badge, accepted by its earner unless ``accepted`` is false (then it is still pending)."""
    people = members(structure)
    badge_template = badge_templates.current(session, template)
    assert badge_template is not None, template
    proposal = decisions.propose(
        session,
        author=people[author],
        worker=people[worker],
        template=badge_template,
        level=level,
        justification="Observé·e au quotidien par l'équipe, confirmé en entretien.",
        now=now,
    )
    badge = decisions.approve(
        session,
        validator=people[validator],
        proposal=proposal,
        comment=None,
        now=now,
        issuing=issuing,
        expires_at=expires_at,
    )
    if accepted:
        consent.accept(session, badge, actor=people[worker].user, show=True, now=now)
    return badge


@dataclass(frozen=True)
class Badge:
    """An issued badge as a verifier sees it."""

    url: str  # the hosted assertion's id
    identity: str  # its recipient's normalised identity
    jws: str

    def key_url(self) -> str:
        return jws_payload(self.jws)["verification"]["creator"]


#: The demo recipients' identities, normalised as at issuance.
IDENTITIES = {"email": "lea.petit@exemple.fr", "telephone": "+33612345678"}


def described(assertion: Assertion, base: str) -> Badge:
    """What a verifier is given of ``assertion``: its address, its holder, its JWS."""
    identity = IDENTITIES.get(
        assertion.recipient_type, f"{base}/profils/{assertion.user.identity_id}"
    )
    return Badge(url=f"{base}/badges/{assertion.public_id}", identity=identity, jws=assertion.jws)


def demo_issuer(session: Session, issuing: Issuing, now: datetime) -> Callable[..., Assertion]:
    """Issue in the demo structure: sophie proposes, nadia approves, level 3."""
    structure = structure_named(session, demo.DEMO_STRUCTURE)

    def issue(
        worker: str, template: str, when: datetime = now, expires_at: datetime | None = None
    ) -> Assertion:
        return issue_manual(
            session,
            structure,
            author="sophie.cip",
            validator="nadia.validatrice",
            worker=worker,
            template=template,
            level=3,
            issuing=issuing,
            now=when,
            expires_at=expires_at,
        )

    return issue
