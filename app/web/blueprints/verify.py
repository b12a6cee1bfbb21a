"""The employer's verification page: no account, plain French, one screen (VER-01…08).

``GET /verifier?lien=…`` checks a shared link (the badge's address, or a JWS); ``POST
/verifier`` the form: a link, or an uploaded file (a baked PNG or SVG, or a photo of the
badge's QR code), with the person's identity if the employer types it — in the body, never
in a URL, and never stored. Each
verification of one of our badges is counted (badge and month only) — an append-only
write a GET may make (STYLE §7). Rate-limited per client.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import StringField
from wtforms.validators import Length, Optional

from app.domain.verification import (
    STATUS_EXPLANATIONS,
    STATUS_LABELS,
    Status,
    check_sentence,
)
from app.extensions import db, limiter
from app.openbadges import OpenBadgesError, unbake_png
from app.openbadges.baking import PNG_SIGNATURE
from app.services import qr, verification
from app.services.badges import Issuing
from app.web.utils import now

bp = Blueprint("verify", __name__, url_prefix="/verifier")

MAX_LINK = 20_000  # a JWS pasted as « lien » can be long


def _limit() -> str:
    return str(current_app.config["VERIFY_RATE_LIMIT"])


class UploadForm(FlaskForm):
    lien = StringField(validators=[Optional(), Length(max=MAX_LINK)])
    fichier = FileField()
    identite = StringField(validators=[Optional(), Length(max=320)])


def remote_fetch():  # type: ignore[no-untyped-def]
    """Other issuers' documents: allow-listed hosts only, public addresses only (VER-07)."""
    config = current_app.config
    hosts = config["VERIFY_ALLOWED_HOSTS"]
    if isinstance(hosts, str):
        hosts = hosts.split(",")
    return verification.guarded_fetch(
        allowed_hosts=hosts, allow_private=bool(config["VERIFY_ALLOW_PRIVATE_ADDRESSES"])
    )


REFUSED_HOST = _l(
    "Ce lien mène à un site qui ne fait pas partie des émetteurs acceptés par Jalon : il n'a "
    "pas été consulté. Demandez à la personne le lien de son badge chez la structure qui l'a "
    "délivré, ou son image."
)


def run(source: str | bytes, identity: str | None) -> tuple[verification.Report, int, str | None]:
    """Verify, and count it when the badge is ours; the HTTP status and a message for a
    badge that could not be read (4xx, VER-07)."""
    remote = remote_fetch()
    report = verification.check(
        db.session,
        source,
        issuing=Issuing.from_config(current_app.config),
        now=now(),
        recipient=(identity or "").strip() or None,
        country=current_app.config["DEFAULT_COUNTRY"],
        remote=remote,
    )
    verification.count(db.session, report, now())
    db.session.commit()
    if remote.refused:
        return report, 400, str(REFUSED_HOST)
    if report.outcome.status is Status.UNKNOWN:
        return report, 400, None
    return report, 200, None


def from_upload(data: bytes) -> str | bytes:
    """A baked badge as it is; any other image is read as a photo of a QR code."""
    if not data:
        raise qr.ImageRejected("Choisissez un fichier : l'image du badge ou une photo du QR code.")
    if len(data) > qr.MAX_UPLOAD_BYTES:
        raise qr.ImageRejected("Ce fichier est trop lourd (5 Mo au plus).", status=413)
    head = data[:512].lstrip()
    if head.startswith((b"<", b"\xef\xbb\xbf")):
        return data  # an SVG: baked or not, the verifier says
    if data.startswith(PNG_SIGNATURE):
        try:
            if unbake_png(data) is not None:
                return data
        except OpenBadgesError:
            return data  # a damaged PNG: the verifier says what is wrong with it
    found = qr.decode_qr(data)
    if found is None:
        raise qr.ImageRejected(
            "Aucun badge ni QR code n'a été trouvé dans cette image. Essayez une photo plus "
            "nette, bien cadrée sur le QR code, ou le fichier du badge lui-même."
        )
    return found


def _page(report: verification.Report | None, form: UploadForm, status: int = 200, **extra: Any):  # type: ignore[no-untyped-def]
    context = {
        "report": report,
        "form": form,
        "status_labels": STATUS_LABELS,
        "status_explanations": STATUS_EXPLANATIONS,
        "check_sentence": check_sentence,
        "lien": request.values.get("lien", ""),
        "identite": request.form.get("identite", ""),
        "error": None,
        **extra,
    }
    response = current_app.make_response((render_template("verify/index.html", **context), status))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@limiter.limit(_limit)
def index():  # type: ignore[no-untyped-def]
    form = UploadForm()
    link = request.args.get("lien", "").strip()
    if not link:
        return _page(None, form)
    if len(link) > MAX_LINK:
        return _page(None, form, 400, error=_("Ce lien est trop long pour être celui d'un badge."))
    # A shared link (e.g. from a QR code) carries no identity: that is typed in the form.
    report, status, message = run(link, None)
    return _page(report, form, status, error=message)


@bp.post("")
@limiter.limit(_limit)
def upload():  # type: ignore[no-untyped-def]
    form = UploadForm()
    if not form.validate_on_submit():
        return _page(None, form, 400, error=_("Le formulaire n'a pas pu être lu. Réessayez."))
    upload = request.files.get("fichier")
    data = upload.read(qr.MAX_UPLOAD_BYTES + 1) if upload else b""
    link = (form.lien.data or "").strip()
    try:
        source = link if link and not data else from_upload(data)
    except qr.ImageRejected as error:
        return _page(None, form, error.status, error=_(error.message))
    report, status, message = run(source, form.identite.data)
    return _page(report, form, status, error=message)
