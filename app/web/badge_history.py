"""A badge's history in its earner's words: each recorded event as one short sentence.

The events are the audit rows of ``queries.portfolio.badge_history``; nothing else is kept
for this page, so what it shows is exactly what was recorded (SHR-01, PRIV-04).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.domain.badges import REVOCATION_WORDING, RevocationReason
from app.models import Assertion, AuditEvent

#: Why a badge got a new link, as its earner reads it.
_NEW_LINK = {
    RevocationReason.IDENTITY_UPDATED.value: _l(
        "Nouveau lien, à votre nouvelle adresse. Vos choix sont gardés."
    ),
    RevocationReason.KEY_COMPROMISED.value: _l(
        "Nouveau lien : la structure a changé sa clé de signature. Vos choix sont gardés."
    ),
}
_NEW_LINK_ANY = _l("Nouveau lien. Vos choix sont gardés.")


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    text: str
    #: The conseiller who acted beside the earner (assisted mode), else None.
    helper: str | None


def _sentence(event: AuditEvent, issuer: str) -> str | None:
    details = event.details or {}
    match event.action:
        case "badge.issued":
            return _("Délivré par %(issuer)s.", issuer=issuer)
        case "badge.reissued":
            return str(_NEW_LINK.get(details.get("reason", ""), _NEW_LINK_ANY))
        case "badge.accepted" if details.get("on_profile"):
            return _("Vous l'avez accepté et montré sur votre profil.")
        case "badge.accepted":
            return _("Vous l'avez accepté en le gardant privé.")
        case "badge.declined":
            return _("Vous l'avez refusé.")
        case "badge.shown":
            return _("Vous l'avez montré sur votre profil.")
        case "badge.hidden":
            return _("Vous l'avez enlevé de votre profil.")
        case "badge.earner_name_changed":
            return _("Vous avez changé le nom affiché sur sa page.")
        case "badge.withdrawal_requested":
            return _("Vous avez demandé son retrait.")
        case "badge.revoked":
            reason = RevocationReason(details["reason"])
            if reason == RevocationReason.WORKER_REQUEST:
                return _("Retiré à votre demande.")
            # The public wording, French like the badge's page says it.
            return _("Retiré. Raison : %(reason)s.", reason=REVOCATION_WORDING[reason])
    return None


def history_lines(assertion: Assertion, events: list[AuditEvent]) -> list[HistoryLine]:
    """``events`` as sentences. A replaced badge's withdrawal is left out: the « nouveau
    lien » line after it says what happened, and the badge is the same to its earner."""
    issuer = assertion.structure.issuer_display_name
    lines = []
    for event in events:
        if event.action == "badge.revoked" and event.target != assertion.public_id:
            continue
        text = _sentence(event, issuer)
        if text is None:
            continue
        helper = None
        if (event.details or {}).get("assisted") and event.actor is not None:
            helper = f"{event.actor.first_name} {event.actor.last_name}".strip()
        lines.append(HistoryLine(event.occurred_at, text, helper))
    return lines
