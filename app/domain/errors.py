"""Errors of the domain, each with a stable machine ``code`` and a French ``message``.

The web layer maps them to a flash message (pages) or ``{"error": code, "message": …}``
(API), in one place: ``app.web.errors``.

    DomainError
    ├── AccountError             accounts, sign-in secrets, identities
    │   ├── InvalidLogin
    │   ├── LoginTaken
    │   ├── EmailTaken
    │   ├── InvalidEmail
    │   ├── InvalidPhone
    │   ├── WeakSecret
    │   └── NotAllowed
    ├── StructureError           structures, memberships and teams
    ├── ObservationError         work situations and observations (HTTP 400/422)
    │   ├── InvalidLevel, FutureObservation, CommentTooLong, SensitiveComment
    │   ├── NotTheAuthor, CorrectionWindowClosed, AlreadyWithdrawn
    │   ├── CompetenceNotInSituation, WorkerNotInScope, SituationNotInScope
    │   └── IdempotencyConflict  a known key with another body (HTTP 409)
    └── InvalidReferential       a referential or scale file that cannot be loaded;
                                 ``issues`` lists ReferentialIssue(source, line, field, message)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class DomainError(Exception):
    """Base of every rule violation a user can be told about."""

    code: str = "domain_error"
    message: str = "Cette action n'est pas possible."
    status: int = 400

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class AccountError(DomainError):
    code = "account_error"


class AccountNotManaged(AccountError):
    """Staff of one structure may not hand out sign-in codes for, nor change the address of,
    an account that is not theirs to manage (``services.accounts.check_managed_by``)."""

    code = "account_not_managed"
    status = 403
    message = "Ce compte n'est pas géré par votre structure."


class InvalidLogin(AccountError):
    code = "invalid_login"
    message = (
        "L'identifiant doit compter 3 à 64 caractères : lettres sans accent, chiffres, "
        "point, tiret."
    )


class LoginTaken(AccountError):
    code = "login_taken"
    message = "Cet identifiant est déjà utilisé. Choisissez-en un autre."


class EmailTaken(AccountError):
    code = "email_taken"
    message = "Cette adresse e-mail est déjà utilisée par un autre compte."


class InvalidEmail(AccountError):
    code = "invalid_email"
    message = "Cette adresse e-mail n'est pas valide."


class InvalidPhone(AccountError):
    code = "invalid_phone"
    message = "Ce numéro de téléphone n'est pas valide."


class WeakSecret(AccountError):
    code = "weak_secret"
    message = (
        "Choisissez un mot de passe d'au moins 10 caractères, ou un code d'au moins "
        "6 chiffres qui ne soient ni tous identiques ni à la suite."
    )


class NotAllowed(AccountError):
    code = "not_allowed"
    message = "Vous n'avez pas le droit de faire cette action."


class StructureError(DomainError):
    code = "structure_error"


@dataclass(frozen=True)
class ReferentialIssue:
    """One problem in a referential or scale file, located for the person who fixes it.

    ``line`` is 1-based in the YAML file; ``field`` is a dotted path such as
    ``competences[3].indicators``; ``message`` is plain French.
    """

    source: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.field}: {self.message}"


class InvalidReferential(DomainError):
    """A referential or scale file that cannot be loaded; nothing of it is loaded (REF-04)."""

    code = "invalid_referential"
    message = "Ce fichier de référentiel n'a pas été chargé : il contient des erreurs."

    def __init__(self, issues: Sequence[ReferentialIssue]) -> None:
        self.issues: list[ReferentialIssue] = list(issues)
        count = len(self.issues)
        plural = "s" if count > 1 else ""
        super().__init__(
            f"Fichier de référentiel non chargé : {count} problème{plural} à corriger."
        )

    def __str__(self) -> str:
        return "\n".join([self.message, *(str(issue) for issue in self.issues)])


class ObservationError(DomainError):
    code = "observation_error"
    status = 422


class InvalidLevel(ObservationError):
    code = "invalid_level"
    message = "Choisissez un niveau de 1 à 5, ou « non observé »."


class FutureObservation(ObservationError):
    code = "future_observation"
    message = "La date d'observation ne peut pas être dans le futur."


class CommentTooLong(ObservationError):
    code = "comment_too_long"
    message = "Le commentaire est trop long : 500 caractères au plus."


class SensitiveComment(ObservationError):
    """The comment holds words about health, social or justice matters."""

    code = "sensitive_comment"

    def __init__(self, terms: Sequence[str]) -> None:
        self.terms = list(terms)
        super().__init__(
            "Le commentaire contient des mots qui n'ont pas leur place ici ("
            + ", ".join(f"« {t} »" for t in self.terms)
            + "). Pas d'information de santé, de famille, de situation sociale ou de justice :"
            " décrivez seulement ce que vous avez vu au travail."
        )


class NotTheAuthor(ObservationError):
    code = "not_the_author"
    status = 403
    message = "Seule la personne qui a fait l'observation peut la corriger."


class CorrectionWindowClosed(ObservationError):
    code = "correction_window_closed"
    message = (
        "Le délai pour corriger cette observation est passé. Retirez-la et saisissez-en une autre."
    )


class AlreadyWithdrawn(ObservationError):
    code = "already_withdrawn"
    message = "Cette observation a déjà été retirée."


class CompetenceNotInSituation(ObservationError):
    code = "competence_not_in_situation"
    message = (
        "Cette compétence ne fait pas partie des compétences observables dans cette situation."
    )


class WorkerNotInScope(ObservationError):
    code = "worker_not_in_scope"
    status = 404
    message = "Ce ou cette salarié·e ne fait pas partie de vos équipes."


class SituationNotInScope(ObservationError):
    code = "situation_not_in_scope"
    status = 404
    message = "Cette situation de travail n'existe pas dans votre structure."


class IdempotencyConflict(ObservationError):
    code = "idempotency_conflict"
    status = 409
    message = (
        "Cette saisie a déjà été envoyée avec un contenu différent. "
        "Rechargez la page pour faire une nouvelle saisie."
    )


class DecisionError(DomainError):
    """Proposals and decisions on badges (issue #7)."""

    code = "decision_error"
    status = 422


class CriteriaNoLongerMet(DecisionError):
    code = "criteria_no_longer_met"
    message = (
        "Les critères ne sont plus atteints aujourd'hui (une observation a pu être retirée "
        "ou devenir trop ancienne). La proposition reste en attente."
    )


class FourEyes(DecisionError):
    code = "four_eyes"
    status = 403
    message = (
        "Vous avez fait toutes les observations utilisées : une autre personne doit valider "
        "(règle des quatre yeux)."
    )


class ProposalClosed(DecisionError):
    code = "proposal_closed"
    status = 409
    message = "Cette proposition a déjà reçu une décision."


class AlreadyProposed(DecisionError):
    code = "already_proposed"
    status = 409
    message = "Ce badge numérique est déjà proposé ou validé pour cette personne."
