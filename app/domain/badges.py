"""What an issued badge says about how it was earned: facts only (BDG-05).

The evidence narrative counts observations and observers, names the generic kinds of
work situation and the period, in months. It is built from numbers, enum values and dates,
so no comment, no person's name and no place can reach it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from app.domain.enums import SituationType

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

# Generic kinds as they read inside a sentence (never a situation's own name or place).
SITUATION_KIND_WORDS: dict[SituationType, str] = {
    SituationType.PRODUCTION: "production",
    SituationType.MISE_EN_SITUATION: "mise en situation",
    SituationType.IMMERSION: "immersion en entreprise",
    SituationType.FORMATION: "formation",
    SituationType.ATELIER: "atelier",
}


@dataclass(frozen=True)
class EvidenceFacts:
    """The facts behind one badge: one entry per observation used as evidence."""

    level: int
    observers: frozenset[int]
    situations: frozenset[int]
    kinds: frozenset[SituationType]
    days: tuple[date, ...]

    @classmethod
    def gather(
        cls, level: int, rows: Iterable[tuple[int, int, SituationType, date]]
    ) -> EvidenceFacts:
        """From (observer id, situation id, situation kind, local day) per observation."""
        items = list(rows)
        return cls(
            level=level,
            observers=frozenset(r[0] for r in items),
            situations=frozenset(r[1] for r in items),
            kinds=frozenset(r[2] for r in items),
            days=tuple(sorted(r[3] for r in items)),
        )


def month_fr(day: date) -> str:
    return f"{MONTHS_FR[day.month - 1]} {day.year}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _period(days: tuple[date, ...]) -> str:
    first, last = month_fr(days[0]), month_fr(days[-1])
    return f"en {first}" if first == last else f"entre {first} et {last}"


def evidence_narrative(facts: EvidenceFacts) -> str:
    """« Compétence observée 4 fois au niveau 3 ou plus, par 2 personnes … »."""
    if not facts.days:
        return (
            f"Compétence reconnue au niveau {facts.level} par la structure, après examen "
            "par une personne chargée de la validation."
        )
    order = list(SituationType)
    observers = _count(
        len(facts.observers),
        "personne qui encadre le travail",
        "personnes différentes qui encadrent le travail",
    )
    situations = _count(
        len(facts.situations), "situation de travail réelle", "situations de travail réelles"
    )
    kinds = ", ".join(SITUATION_KIND_WORDS[k] for k in sorted(facts.kinds, key=order.index))
    return (
        f"Compétence observée {_count(len(facts.days), 'fois', 'fois')} "
        f"au niveau {facts.level} ou plus, "
        f"par {observers}, "
        f"dans {situations} "
        f"({kinds}), {_period(facts.days)}. "
        "Observations vérifiées par une personne chargée de la validation avant la délivrance."
    )


class RevocationReason(StrEnum):
    """Why a badge was withdrawn: one list for every path (BDG-10), each with public words."""

    ISSUING_ERROR = "erreur_emission"
    WORKER_REQUEST = "demande_salarie"
    EVIDENCE_WITHDRAWN = "preuves_retirees"
    KEY_COMPROMISED = "cle_compromise"
    IDENTITY_UPDATED = "identite_mise_a_jour"


#: What the badge's public page, its JSON and the revocation list say (plain French).
REVOCATION_WORDING: dict[RevocationReason, str] = {
    RevocationReason.ISSUING_ERROR: "Erreur de délivrance",
    RevocationReason.WORKER_REQUEST: "Retiré à la demande de la personne",
    RevocationReason.EVIDENCE_WITHDRAWN: "Les observations qui le fondaient ont été retirées",
    RevocationReason.KEY_COMPROMISED: (
        "Clé de signature compromise : la structure a délivré un badge de remplacement"
    ),
    RevocationReason.IDENTITY_UPDATED: (
        "Identité de la personne mise à jour : la structure a délivré un badge de remplacement"
    ),
}

#: The reasons staff choose from; the others are set by the procedures that replace a badge.
STAFF_REVOCATION_REASONS = (
    RevocationReason.ISSUING_ERROR,
    RevocationReason.WORKER_REQUEST,
    RevocationReason.EVIDENCE_WITHDRAWN,
)
