"""Public Open Badges 2.0 addresses: issuers, keys, badge classes and hosted assertions.

No account needed. Each address answers JSON-LD to machines (``Accept:
application/ld+json``, ``application/json`` or anything but HTML, or a ``.json`` suffix)
and a plain-French page to people. Ids are opaque; unknown ids give 404. Responses are
short-lived in caches, carry ``noindex`` and ``Vary: Accept`` (BDG-09, VER).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, current_app, render_template, request

from app.domain.consent import earner_name
from app.extensions import db
from app.models import Assertion, BadgeClass, Structure
from app.queries import badges as queries
from app.services import badges as service
from app.services.public_urls import PublicUrls
from app.web.utils import now

bp = Blueprint("openbadges", __name__)
T = TypeVar("T")

JSON_LD = "application/ld+json"
CACHE_SECONDS = 300
_PID = "<pid:{}>"


def _urls() -> PublicUrls:
    return PublicUrls(current_app.config["BASE_URL"])


def _wants_json() -> bool:
    """JSON unless the client prefers HTML (browsers do; validators and curl do not)."""
    best = request.accept_mimetypes.best_match([JSON_LD, "application/json", "text/html"])
    return best != "text/html"


def _public(response: Response, *, vary: bool = True, shared: bool = True) -> Response:
    """Headers every public badge address carries.

    Shared caches may keep an answer only when nothing of a session can be in it: never an
    HTML page (its forms carry a CSRF token), never an answer to a request with cookies.
    """
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    scope = "public" if shared and not request.cookies else "private"
    response.headers["Cache-Control"] = f"{scope}, max-age={CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    if vary:
        response.vary.add("Accept")
    return response


def _cached(
    body: bytes | list[bytes], mimetype: str, *, vary: bool = False, etag: str | None = None
) -> Response:
    """A body with a strong ETag; a matching ``If-None-Match`` gets 304.

    ``body`` may be parts sent in turn (never joined), given with their ``etag``; a single
    body's ETag is its hash. The content type is exactly ``mimetype`` (no charset
    parameter): validators compare it.
    """
    parts = [body] if isinstance(body, bytes) else body
    if etag is None:
        digest = hashlib.sha256()
        for part in parts:
            digest.update(part)
        etag = digest.hexdigest()[:32]
    response = Response(parts)  # a list: Werkzeug sets Content-Length from its parts
    response.headers["Content-Type"] = mimetype
    response.set_etag(etag)
    response.make_conditional(request)
    return _public(response, vary=vary)


def _json(document: dict[str, Any], *, vary: bool = False) -> Response:
    body = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return _cached(body, JSON_LD, vary=vary)


def _html(template: str, **context: Any) -> Response:
    response = Response(render_template(template, **context), mimetype="text/html")
    return _public(response, shared=False)


# -- Issuers and keys -------------------------------------------------------------------


def _found(value: T | None) -> T:
    """``value``, or 404 for an unknown id."""
    if value is None:
        abort(404)
    return value


def _issuer_or_404(issuer_id: str) -> Structure:
    return _found(queries.structure_by_public_id(db.session, issuer_id))


@bp.get("/emetteurs/<pid:issuer_id>")
def issuer(issuer_id: str) -> Response:
    structure = _issuer_or_404(issuer_id)
    document = service.issuer_document(
        db.session, structure, _urls(), current_app.config["CONTACT_EMAIL"]
    )
    if _wants_json():
        return _json(document, vary=True)
    return _html(
        "openbadges/issuer.html",
        structure=structure,
        document=document,
        classes=[
            (c, service.badge_name(c.template, c.level))
            for c in queries.badge_classes_of(db.session, structure)
        ],
    )


@bp.get("/emetteurs/<pid:issuer_id>.json")
def issuer_json(issuer_id: str) -> Response:
    structure = _issuer_or_404(issuer_id)
    return _json(
        service.issuer_document(db.session, structure, _urls(), current_app.config["CONTACT_EMAIL"])
    )


@bp.get("/emetteurs/<pid:issuer_id>/revocations")
def revocations(issuer_id: str) -> Response:
    structure = _issuer_or_404(issuer_id)
    return _json(service.revocation_list_document(db.session, structure, _urls()))


@bp.get("/cles/<pid:key_id>")
def key(key_id: str) -> Response:
    signing_key = queries.key_by_public_id(db.session, key_id)
    if signing_key is None:
        abort(404)
    return _json(service.key_document(signing_key, _urls()))


# -- Badge classes ------------------------------------------------------------------------


def _class_or_404(class_id: str) -> BadgeClass:
    return _found(queries.badge_class_by_public_id(db.session, class_id))


def _criteria_page(found: BadgeClass, document: dict[str, Any]) -> Response:
    return _html("openbadges/criteria.html", badge_class=found, document=document)


@bp.get("/badges/modeles/<pid:class_id>")
def badge_class(class_id: str) -> Response:
    found = _class_or_404(class_id)
    document = service.badge_class_document(found, _urls())
    return _json(document, vary=True) if _wants_json() else _criteria_page(found, document)


@bp.get("/badges/modeles/<pid:class_id>.json")
def badge_class_json(class_id: str) -> Response:
    return _json(service.badge_class_document(_class_or_404(class_id), _urls()))


@bp.get("/badges/modeles/<pid:class_id>/criteres")
def criteria(class_id: str) -> Response:
    found = _class_or_404(class_id)
    return _criteria_page(found, service.badge_class_document(found, _urls()))


@bp.get("/badges/modeles/<pid:class_id>/image.png")
def class_image_png(class_id: str) -> Response:
    return _cached(_class_or_404(class_id).image_png, "image/png")


@bp.get("/badges/modeles/<pid:class_id>/image.svg")
def class_image_svg(class_id: str) -> Response:
    return _cached(_class_or_404(class_id).image_svg.encode("utf-8"), "image/svg+xml")


# -- Assertions ---------------------------------------------------------------------------


def _assertion_or_404(assertion_id: str) -> Assertion:
    return _found(queries.public_assertion_by_public_id(db.session, assertion_id))


@bp.get("/badges/<pid:assertion_id>")
def assertion(assertion_id: str) -> Response:
    """The badge's one stable public address: JSON-LD to machines, a page to people."""
    found = _assertion_or_404(assertion_id)
    if _wants_json():
        return _json(service.assertion_document(found, _urls()), vary=True)
    return _html(
        "openbadges/assertion.html",
        assertion=found,
        badge_class=found.badge_class,
        class_document=service.badge_class_document(found.badge_class, _urls()),
        state=found.state(now()),
        revocation=service.revocation_wording(found),
        # Named only as its earner chose (SHR-01); nothing else about them (VER-05).
        earner=earner_name(found.user.first_name, found.user.last_name, found.earner_name),
        urls=_urls(),
    )


@bp.get("/badges/<pid:assertion_id>.json")
def assertion_json(assertion_id: str) -> Response:
    return _json(service.assertion_document(_assertion_or_404(assertion_id), _urls()))


@bp.get("/badges/<pid:assertion_id>.jws")
def assertion_jws(assertion_id: str) -> Response:
    """The signed variant, as the compact JWS text."""
    return _cached(_assertion_or_404(assertion_id).jws.encode("ascii"), "text/plain")


def _baked(assertion_id: str, fmt: str) -> Response:
    """Bake on download: the class image with this badge inserted, never stored (BDG-07)."""
    found = _assertion_or_404(assertion_id)
    signed = request.args.get("variante") == "signee"
    if fmt == "png":  # streamed in parts: the class image's bytes are never copied
        baked = service.baked_png(found, _urls(), signed=signed)
        response = _cached(baked.parts, "image/png", etag=baked.digest[:32])
    else:
        response = _cached(service.baked_file(found, _urls(), fmt, signed=signed), "image/svg+xml")
    variant = "-signe" if signed else ""
    response.headers["Content-Disposition"] = (
        f'attachment; filename="badge-{found.public_id}{variant}.{fmt}"'
    )
    return response


@bp.get("/badges/<pid:assertion_id>/badge.png")
def baked_png(assertion_id: str) -> Response:
    return _baked(assertion_id, "png")


@bp.get("/badges/<pid:assertion_id>/badge.svg")
def baked_svg(assertion_id: str) -> Response:
    return _baked(assertion_id, "svg")
