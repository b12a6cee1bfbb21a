"""Enumerations shared by every layer, stored by value."""

from enum import StrEnum


class Role(StrEnum):
    """A member's role in one structure (REQUIREMENTS ADM-02)."""

    ADMIN = "admin"
    ENCADRANT = "encadrant"
    CONSEILLER = "conseiller"
    VALIDATEUR = "validateur"
    SALARIE = "salarie"

    @property
    def is_staff(self) -> bool:
        """Every role but the worker's is a staff role."""
        return self is not Role.SALARIE


#: Default French titles; a structure may rename them without changing permissions.
DEFAULT_ROLE_TITLES: dict[Role, str] = {
    Role.ADMIN: "Administrateur·rice",
    Role.ENCADRANT: "Encadrant·e technique",
    Role.CONSEILLER: "Conseiller·ère (CIP)",
    Role.VALIDATEUR: "Validateur·rice",
    Role.SALARIE: "Salarié·e",
}


class StructureKind(StrEnum):
    """Kind of employing structure (ADM-03). Internal: never on a badge."""

    ACI = "aci"
    EI = "ei"
    ETTI = "etti"
    AI = "ai"
    GEIQ = "geiq"
    TRAINING = "organisme_formation"
    OTHER = "autre"


STRUCTURE_KIND_LABELS: dict[StructureKind, str] = {
    StructureKind.ACI: "Atelier et chantier (ACI)",
    StructureKind.EI: "Entreprise (EI)",
    StructureKind.ETTI: "Travail temporaire (ETTI)",
    StructureKind.AI: "Association intermédiaire",
    StructureKind.GEIQ: "GEIQ",
    StructureKind.TRAINING: "Organisme de formation",
    StructureKind.OTHER: "Autre",
}


class StructureModel(StrEnum):
    """Time-limited springboard or open-ended social integration (ADM-03). Internal."""

    TREMPLIN = "tremplin"
    INTEGRATION_SOCIALE = "integration_sociale"


class CodeKind(StrEnum):
    """Why a one-time sign-in code exists."""

    INVITATION = "invitation"
    RESET = "reset"
    RECOVERY = "recovery"
    #: Printed on a claim sheet (with a QR code) for a worker without e-mail (SHR-06).
    CLAIM = "claim"


class SituationType(StrEnum):
    """Kinds of work situation (OBS-01)."""

    PRODUCTION = "production"
    MISE_EN_SITUATION = "mise_en_situation"
    IMMERSION = "immersion"
    FORMATION = "formation"
    ATELIER = "atelier"


class WithdrawalReason(StrEnum):
    """Why an observation was withdrawn (a category, never free text)."""

    ENTRY_ERROR = "erreur_saisie"
    WRONG_WORKER = "mauvaise_personne"
    WRONG_COMPETENCE = "mauvaise_competence"
    DUPLICATE = "doublon"
    WORKER_REQUEST = "demande_salarie"


WITHDRAWAL_REASON_LABELS: dict[WithdrawalReason, str] = {
    WithdrawalReason.ENTRY_ERROR: "Erreur de saisie",
    WithdrawalReason.WRONG_WORKER: "Mauvaise personne",
    WithdrawalReason.WRONG_COMPETENCE: "Mauvaise compétence",
    WithdrawalReason.DUPLICATE: "Doublon",
    WithdrawalReason.WORKER_REQUEST: "À la demande du ou de la salarié·e",
}

SITUATION_TYPE_LABELS: dict[SituationType, str] = {
    SituationType.PRODUCTION: "Production",
    SituationType.MISE_EN_SITUATION: "Mise en situation",
    SituationType.IMMERSION: "Immersion / PMSMP",
    SituationType.FORMATION: "Formation",
    SituationType.ATELIER: "Atelier",
}
