"""What a verification means to an employer: one status in plain French (VER-02, VER-03).

The library gives stable check codes; this module turns them into the status an
employer reads (Valide, Expiré, Retiré, Signature invalide, Inconnu) and one plain
sentence per check that says what was verified.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    VALID = "valide"
    EXPIRED = "expire"
    REVOKED = "retire"
    INVALID = "signature_invalide"
    UNKNOWN = "inconnu"


STATUS_LABELS: dict[Status, str] = {
    Status.VALID: "Valide",
    Status.EXPIRED: "Expiré",
    Status.REVOKED: "Retiré",
    Status.INVALID: "Signature invalide",
    Status.UNKNOWN: "Inconnu",
}

STATUS_EXPLANATIONS: dict[Status, str] = {
    Status.VALID: (
        "Ce badge a bien été délivré par la structure indiquée, il n'a pas été modifié, "
        "et il est toujours valable."
    ),
    Status.EXPIRED: (
        "Ce badge a bien été délivré par la structure indiquée, mais sa date de validité "
        "est passée."
    ),
    Status.REVOKED: (
        "La structure qui l'a délivré a retiré ce badge : il ne vaut plus comme preuve."
    ),
    Status.INVALID: (
        "Ce badge n'est pas authentique : il a été modifié, ou sa signature ne correspond pas "
        "à la structure qu'il nomme. Ne vous y fiez pas."
    ),
    Status.UNKNOWN: (
        "Ce badge n'a pas pu être lu ni retrouvé chez son émetteur. Vérifiez le lien ou le "
        "fichier, ou demandez-en un nouveau à la personne."
    ),
}

#: Checks whose failure means the badge could not be read or found.
_UNREADABLE = frozenset({"input", "assertion", "badge_class", "issuer"})
#: Checks whose failure means the badge is not what it claims to be.
_NOT_AUTHENTIC = frozenset({"hosted", "signature", "key_owner", "issued_in_past"})

#: What each check verified, in plain words: (when it passed, when it failed).
CHECK_WORDS: dict[str, tuple[str, str]] = {
    "input": ("Le badge a pu être lu.", "Le badge n'a pas pu être lu."),
    "assertion": ("Le badge est complet.", "Le badge est incomplet ou mal formé."),
    "badge_class": (
        "La description du badge a été retrouvée chez l'émetteur.",
        "La description du badge est introuvable chez l'émetteur.",
    ),
    "issuer": (
        "La structure qui l'a délivré a été retrouvée.",
        "La structure qui l'aurait délivré est introuvable.",
    ),
    "hosted": (
        "Le badge est publié à son adresse d'origine, chez la structure qui l'a délivré.",
        "Le badge n'est pas publié chez la structure qu'il nomme.",
    ),
    "signature": (
        "La signature numérique est authentique : le badge n'a pas été modifié.",
        "La signature numérique ne correspond pas : le badge a été modifié ou falsifié.",
    ),
    "key_owner": (
        "La clé qui l'a signé appartient bien à cette structure.",
        "La clé qui l'a signé n'appartient pas à cette structure.",
    ),
    "key_not_revoked": (
        "Cette clé de signature n'a pas été déclarée compromise.",
        "Cette clé de signature a été déclarée compromise par la structure.",
    ),
    "not_revoked": (
        "La structure n'a pas retiré ce badge (liste des badges retirés consultée).",
        "La structure a retiré ce badge.",
    ),
    "not_expired": ("Le badge n'a pas expiré.", "La date de validité du badge est passée."),
    "issued_in_past": (
        "La date de délivrance est cohérente.",
        "La date de délivrance est dans le futur.",
    ),
    "recipient": (
        "Le badge a bien été délivré à cette personne.",
        "Le badge n'a pas été délivré à cette personne.",
    ),
}


@dataclass(frozen=True)
class Outcome:
    status: Status
    #: True/False when an identity was given, None otherwise.
    belongs: bool | None


def outcome(checks: Iterable[tuple[str, bool]]) -> Outcome:
    """The employer's status from (check code, passed) pairs, in the library's order."""
    seen = dict(checks)
    failed = {code for code, ok in seen.items() if not ok}
    if failed & _UNREADABLE:
        status = Status.UNKNOWN
    elif failed & _NOT_AUTHENTIC:
        status = Status.INVALID
    elif failed & {"not_revoked", "key_not_revoked"}:
        # A badge signed with a key its issuer declared compromised was withdrawn (and
        # replaced): the employer reads « Retiré » with the issuer's reason.
        status = Status.REVOKED
    elif "not_expired" in failed:
        status = Status.EXPIRED
    else:
        status = Status.VALID
    return Outcome(status=status, belongs=seen.get("recipient"))


def check_sentence(code: str, ok: bool) -> str:
    """What this check verified, in plain words."""
    passed, failed = CHECK_WORDS.get(code, ("Vérification réussie.", "Vérification échouée."))
    return passed if ok else failed
