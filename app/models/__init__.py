"""SQLAlchemy models; importing this package registers every table on ``Base.metadata``."""

from app.models.accounts import (
    Membership,
    MembershipRole,
    OneTimeCode,
    Structure,
    Team,
    TeamMember,
    User,
)
from app.models.audit import AuditEvent
from app.models.base import Base
from app.models.keys import SigningKey
from app.models.referentials import (
    Competence,
    CompetenceGroup,
    Indicator,
    Referential,
    SituationTemplate,
)

__all__ = [
    "AuditEvent",
    "Base",
    "Competence",
    "CompetenceGroup",
    "Indicator",
    "Membership",
    "MembershipRole",
    "OneTimeCode",
    "Referential",
    "SigningKey",
    "SituationTemplate",
    "Structure",
    "Team",
    "TeamMember",
    "User",
]
