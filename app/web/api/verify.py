"""``/api/v1/verify``: the verification page's answer as JSON, with no account (VER-03)."""

from __future__ import annotations

from typing import Any

from flask import current_app, request

from app.domain.verification import STATUS_EXPLANATIONS, STATUS_LABELS, check_sentence
from app.extensions import limiter
from app.services import qr
from app.services.verification import Report
from app.web.api import bp
from app.web.blueprints.verify import MAX_LINK, from_upload, run
from app.web.errors import render_error


def _limit() -> str:
    return str(current_app.config["VERIFY_RATE_LIMIT"])


def as_json(report: Report) -> dict[str, Any]:
    """The same facts as the page: status, what was checked, what the badge says."""
    shown = report.shown
    return {
        "status": report.outcome.status.value,
        "status_label": STATUS_LABELS[report.outcome.status],
        "explanation": STATUS_EXPLANATIONS[report.outcome.status],
        "valid": report.verification.valid,
        "method": report.verification.method,
        "belongs_to_recipient": report.outcome.belongs,
        "checks": [
            {"code": c.code, "ok": c.ok, "text": check_sentence(c.code, c.ok), "reason": c.reason}
            for c in report.verification.checks
        ],
        "badge": None
        if shown is None
        else {
            "name": shown.name,
            "description": shown.description,
            "criteria": shown.criteria,
            "evidence": shown.evidence,
            "issuer": {
                "name": shown.issuer_name,
                "url": shown.issuer_url,
                "email": shown.issuer_email,
            },
            "issued_on": shown.issued_on,
            "expires": shown.expires,
            "revocation_reason": shown.revocation_reason,
            "url": shown.hosted_url,
        },
    }


@bp.get("/verify")
@limiter.limit(_limit)
def verify():  # type: ignore[no-untyped-def]
    """Verify a badge given by its address or its JWS (``badge``), optionally for a
    ``recipient`` (email, telephone or profile link; compared, never stored)."""
    badge = request.args.get("badge", "").strip()
    if not badge:
        return render_error(400, "Donnez le lien du badge (paramètre « badge »).")
    if len(badge) > MAX_LINK:
        return render_error(400, "Ce lien est trop long pour être celui d'un badge.")
    return _answer(*run(badge, request.args.get("recipient")))


@bp.post("/verify")
@limiter.limit(_limit)
def verify_file():  # type: ignore[no-untyped-def]
    """Verify an uploaded baked PNG or SVG, or a photo of the badge's QR code (``file``),
    or a link or JWS (``badge``); the ``recipient`` travels in the body, not the URL."""
    upload = request.files.get("file")
    data = upload.read(qr.MAX_UPLOAD_BYTES + 1) if upload else b""
    badge = (request.form.get("badge") or "").strip()
    if len(badge) > MAX_LINK:
        return render_error(400, "Ce lien est trop long pour être celui d'un badge.")
    try:
        source = badge if badge and not data else from_upload(data)
    except qr.ImageRejected as error:
        return render_error(error.status, error.message)
    return _answer(*run(source, request.form.get("recipient")))


def _answer(report: Report, status: int, message: str | None):  # type: ignore[no-untyped-def]
    body = as_json(report)
    if message:
        body["message"] = message
    return body, status
