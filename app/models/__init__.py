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
from app.models.assessments import (
    AssessmentState,
    BadgeTemplate,
    DecisionNote,
    Notification,
    Proposal,
)
from app.models.audit import AuditEvent
from app.models.badges import Assertion, BadgeClass, BadgeVerification
from app.models.base import Base
from app.models.keys import SigningKey
from app.models.notifications import OutboundNotification
from app.models.observations import (
    Capture,
    Observation,
    ObservationComment,
    ObservationVersion,
    WorkSituation,
    WorkSituationCompetence,
)
from app.models.progress import (
    FileReadLog,
    FocusCompetence,
    ProgressReview,
    ReviewComment,
    ReviewGoal,
    SelfAssessment,
    SelfAssessmentAnswer,
)
from app.models.referentials import (
    Competence,
    CompetenceGroup,
    Indicator,
    Referential,
    SituationTemplate,
)
from app.models.tokens import ApiToken

__all__ = [
    "Assertion",
    "BadgeClass",
    "BadgeVerification",
    "AssessmentState",
    "BadgeTemplate",
    "DecisionNote",
    "Notification",
    "OutboundNotification",
    "Proposal",
    "FileReadLog",
    "FocusCompetence",
    "ProgressReview",
    "ReviewComment",
    "ReviewGoal",
    "SelfAssessment",
    "SelfAssessmentAnswer",
    "ApiToken",
    "AuditEvent",
    "Capture",
    "Observation",
    "ObservationComment",
    "ObservationVersion",
    "WorkSituation",
    "WorkSituationCompetence",
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
