"""The earner's own badges across every structure, their public profile, and the
conseiller's assisted mode (SHR-01..09).

The earner's pages take no person id: a badge is looked up among the signed-in person's
own (another's answers 404). The assisted pages name the worker, who must be one the
conseiller follows in that structure, and the badge, which must be of that membership.
Each choice is one POST (PRG) committed once; a refused one writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.domain.consent import Consent, EarnerName, earner_name
from app.domain.errors import DomainError
from app.domain.sharing import linkedin_add_url
from app.extensions import db
from app.models import Assertion, Membership
from app.queries import people
from app.queries import portfolio as queries
from app.services import badge_export, consent, profiles
from app.services import badge_pdf as pdfs
from app.services import badges as badge_service
from app.services.public_urls import PublicUrls
from app.web.badge_history import history_lines
from app.web.errors import flash_error
from app.web.portfolio_forms import (
    ACCEPT_PRIVATE,
    ACCEPT_SHOW,
    DECLINE,
    HIDE,
    NAME,
    PUBLISH,
    SHOW,
    WITHDRAW,
    BadgeChoiceForm,
    ProfileForm,
)
from app.web.timez import to_local
from app.web.utils import now

bp = Blueprint("portfolio", __name__)

#: The index's sections, in order, and the statuses (``Assertion.status``) each holds.
GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("pending", ("pending",)),
    ("accepted", ("valid",)),
    ("declined", ("declined",)),
    ("ended", ("revoked", "expired")),
)
#: What the page says once a choice is saved (the earner or the conseiller reads it).
DONE = {
    ACCEPT_SHOW: _l("C'est fait. Ce badge numérique est accepté. Il est sur le profil."),
    ACCEPT_PRIVATE: _l("C'est fait. Ce badge numérique est accepté. Il reste privé."),
    DECLINE: _l("C'est noté. Ce badge numérique est refusé. Vous pouvez changer d'avis."),
    SHOW: _l("C'est fait. Ce badge numérique est sur le profil."),
    HIDE: _l("C'est fait. Ce badge numérique n'est plus sur le profil. Son lien marche encore."),
    NAME: _l("C'est enregistré."),
    WITHDRAW: _l("C'est fait. Ce badge numérique est retiré. Sa page le dit."),
}


@dataclass(frozen=True)
class Card:
    """One badge as its earner's pages show it."""

    assertion: Assertion
    name: str
    #: ``Assertion.status``: pending, declined, valid, expired or revoked.
    status: str

    @property
    def id(self) -> str:
        return self.assertion.public_id


def _urls() -> PublicUrls:
    return PublicUrls(current_app.config["BASE_URL"])


def _card(assertion: Assertion) -> Card:
    klass = assertion.badge_class
    return Card(
        assertion, badge_service.badge_name(klass.template, klass.level), assertion.status(now())
    )


def _local_day(assertion: Assertion, value: datetime) -> date:
    """The day of ``value`` in the issuing structure's time zone."""
    local = to_local(value, assertion.structure.timezone)
    assert local is not None
    return local.date()


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _own_or_404(assertion_id: str) -> Assertion:
    found = queries.own_badge(db.session, current_user, assertion_id)
    if found is None:
        abort(404)
    return found


def worker_cards(worker: Membership) -> list[Card]:
    """The badges issued in ``worker``'s membership, for the staff's worker page."""
    return [_card(a) for a in queries.worker_badges(db.session, worker)]


# -- The earner's list -------------------------------------------------------------------


def _index_page(status: int = 200):  # type: ignore[no-untyped-def]
    cards = [_card(a) for a in queries.earner_badges(db.session, current_user)]
    first, last = current_user.first_name, current_user.last_name
    groups = {name: [c for c in cards if c.status in statuses] for name, statuses in GROUPS}
    return render_template(
        "portfolio/index.html",
        groups=groups,
        total=len(cards),
        printable=[c for c in cards if c.assertion.is_public and c.status != "revoked"],
        name_choices=[
            (choice.value, earner_name(first, last, choice) or _("Sans mon nom"))
            for choice in (EarnerName.FULL, EarnerName.INITIAL, EarnerName.NONE)
        ],
    ), status


@bp.get("/moi/badges")
def index():  # type: ignore[no-untyped-def]
    return _index_page()


# -- One badge: the earner, or a conseiller beside them -----------------------------------


def _badge_page(card: Card, *, worker: Membership | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    """The badge's page; ``worker`` set in assisted mode (a conseiller beside the earner)."""
    assertion, urls = card.assertion, _urls()
    user = assertion.user
    # Only a badge in force is shared: an expired one no longer proves anything today.
    shareable = assertion.is_public and card.status == "valid"
    linkedin = None
    if shareable:
        linkedin = linkedin_add_url(
            name=card.name,
            organization_name=assertion.structure.issuer_display_name,
            organization_id=assertion.structure.linkedin_organization_id,
            issued_on=_local_day(assertion, assertion.issued_on),
            expires_on=_local_day(assertion, assertion.expires_at)
            if assertion.expires_at
            else None,
            cert_url=urls.assertion(assertion.public_id),
            cert_id=assertion.public_id,
        )
    if worker is None:
        action = url_for("portfolio.badge", assertion_id=assertion.public_id)
    else:
        action = url_for(
            "portfolio.assisted",
            structure_id=g.structure.public_id,
            worker_id=worker.public_id,
            assertion_id=assertion.public_id,
        )
    return render_template(
        "portfolio/badge.html",
        card=card,
        assertion=assertion,
        badge_class=assertion.badge_class,
        class_document=badge_service.badge_class_document(assertion.badge_class, urls),
        state=assertion.state(now()),
        revocation=badge_service.revocation_wording(assertion),
        withdrawal_wording=REVOCATION_WORDING[RevocationReason.WORKER_REQUEST],
        earner=earner_name(user.first_name, user.last_name, assertion.earner_name),
        name_choices=[
            (EarnerName.NONE.value, _("Ne pas afficher mon nom")),
            (EarnerName.INITIAL.value, earner_name(user.first_name, user.last_name, "initial")),
            (EarnerName.FULL.value, earner_name(user.first_name, user.last_name, "full")),
        ],
        hosted_url=urls.assertion(assertion.public_id),
        shareable=shareable,
        linkedin=linkedin,
        action=action,
        assisted=worker is not None,
        worker=worker,
        profile_public=user.profile_public,
        history=history_lines(assertion, queries.badge_history(db.session, assertion)),
    ), status


def _choose(card: Card, *, worker: Membership | None = None):  # type: ignore[no-untyped-def]
    """Apply the choice posted for ``card``'s badge, then show its page again (PRG)."""
    form = BadgeChoiceForm()
    if not form.validate_on_submit():
        flash(_("Ce choix n'a pas été compris. Réessayez."), "error")
        return _badge_page(card, worker=worker, status=400)
    assertion, action = card.assertion, form.action.data
    common = {"actor": current_user, "now": now(), "assisted": worker is not None}
    try:
        if action in (ACCEPT_SHOW, ACCEPT_PRIVATE):
            consent.accept(db.session, assertion, show=action == ACCEPT_SHOW, **common)
        elif action == DECLINE:
            consent.decline(db.session, assertion, **common)
        elif action in (SHOW, HIDE):
            consent.set_shown(db.session, assertion, show=action == SHOW, **common)
        elif action == NAME:
            choice = EarnerName(form.earner_name.data)
            consent.set_earner_name(db.session, assertion, choice=choice, **common)
        else:
            consent.request_withdrawal(db.session, assertion, **common)
    except DomainError as error:
        db.session.rollback()
        flash_error(error)
        return _badge_page(_card(assertion), worker=worker, status=error.status)
    db.session.commit()
    flash(str(DONE[action]), "success")
    return redirect(request.path)


@bp.route("/moi/badges/<pid:assertion_id>", methods=["GET", "POST"])
def badge(assertion_id: str):  # type: ignore[no-untyped-def]
    card = _card(_own_or_404(assertion_id))
    if request.method == "POST":
        return _choose(card)
    return _badge_page(card)


@bp.route(
    "/s/<structure_id>/salaries/<worker_id>/badges/<pid:assertion_id>", methods=["GET", "POST"]
)
def assisted(structure_id: str, worker_id: str, assertion_id: str):  # type: ignore[no-untyped-def]
    """The same page, the earner's referent conseiller beside them: the choice stays the
    earner's."""
    worker = people.followed_worker(db.session, g.membership, worker_id)
    if worker is None or not worker.is_current:
        abort(404)
    found = queries.worker_badge(db.session, worker, assertion_id)
    if found is None:
        abort(404)
    card = _card(found)
    if request.method == "POST":
        return _choose(card, worker=worker)
    return _badge_page(card, worker=worker)


# -- Files the earner keeps --------------------------------------------------------------


@bp.get("/moi/badges/<pid:assertion_id>/badge.pdf")
def badge_pdf(assertion_id: str) -> Response:
    """One page to print, with a QR code to the badge's address: accepted badges only."""
    found = _own_or_404(assertion_id)
    if not found.is_public:
        abort(404)
    sheet = pdfs.sheet_for(found, _urls(), now())
    return _download(pdfs.badge_pdf(sheet), "application/pdf", f"badge-{found.public_id}.pdf")


@bp.get("/moi/badges/passeport.pdf")
def passport():  # type: ignore[no-untyped-def]
    """The badges ticked on the list (``?badge=<id>`` repeated), two per page, with the
    earner's name as they chose it there (``?nom=``: full, initial or none)."""
    chosen = request.args.getlist("badge")
    if not chosen:
        flash(_("Cochez au moins un badge numérique pour le passeport."), "error")
        return _index_page(status=400)
    shown = request.args.get("nom", EarnerName.FULL.value)
    if shown not in {choice.value for choice in EarnerName}:
        flash(_("Ce choix n'a pas été compris. Réessayez."), "error")
        return _index_page(status=400)
    found = queries.own_printable(db.session, current_user, chosen)
    if len(found) != len(dict.fromkeys(chosen)):
        if not queries.owns_all(db.session, current_user, chosen):
            abort(404)  # someone else's badge, or none: nothing to say about it
        # Their own, but a page left open while it was withdrawn, re-issued or hidden.
        flash(_("Un badge numérique choisi n'est plus disponible. Cochez à nouveau."), "error")
        return _index_page(status=400)
    sheets = [pdfs.sheet_for(a, _urls(), now()) for a in found]
    owner = earner_name(current_user.first_name, current_user.last_name, shown)
    body = pdfs.passport_pdf(sheets, owner_name=owner, generated_on=sheets[0].status_on)
    return _download(body, "application/pdf", "passeport-badges-numeriques.pdf")


@bp.get("/moi/badges/export.zip")
def export() -> Response:
    """Every badge the earner accepted (withdrawn and expired ones too), as files to keep.

    Pending and declined badges are left out: their addresses answer 404, so their files
    would prove nothing. Works after the contract ended (SHR-07)."""
    accepted = [
        a for a in queries.earner_badges(db.session, current_user) if a.consent == Consent.ACCEPTED
    ]
    body = badge_export.export_archive(accepted, urls=_urls(), owner=current_user, now=now())
    return _download(body, "application/zip", "mes-badges-numeriques.zip")


# -- The public profile --------------------------------------------------------------------


@bp.route("/moi/profil", methods=["GET", "POST"])
def profile_settings():  # type: ignore[no-untyped-def]
    form = ProfileForm()
    if form.validate_on_submit():
        public = form.action.data == PUBLISH
        profiles.set_public(db.session, current_user, public=public, now=now())
        db.session.commit()
        if public:
            flash(_("C'est fait. Votre profil public est ouvert."), "success")
        else:
            flash(_("C'est fait. Votre profil public est fermé."), "success")
        return redirect(url_for("portfolio.profile_settings"))
    if form.is_submitted():
        flash(_("Ce choix n'a pas été compris. Réessayez."), "error")
    return render_template(
        "portfolio/profile_settings.html",
        profile_url=_urls().identity(current_user.identity_id),
        shown=queries.profile_badges(db.session, current_user, now()),
    ), (400 if form.is_submitted() else 200)


@bp.get("/profils/<pid:identity_id>")
def public_profile(identity_id: str) -> Response:
    """The badges a person chose to show, and their first name and initial: nothing else.

    Never indexed nor kept by any cache: closing the profile takes effect at once."""
    owner = queries.profile_owner(db.session, identity_id)
    if owner is None:
        abort(404)
    response = Response(
        render_template(
            "portfolio/public_profile.html",
            name=earner_name(owner.first_name, owner.last_name, EarnerName.INITIAL),
            cards=[_card(a) for a in queries.profile_badges(db.session, owner, now())],
        ),
        mimetype="text/html",
    )
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response
