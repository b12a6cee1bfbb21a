"""People, structures, memberships, roles and teams."""

from __future__ import annotations

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Enum,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.domain.enums import CodeKind, Role, StructureKind, StructureModel
from app.models.base import (
    Base,
    UTCDateTime,
    bool_false,
    created_at,
    intpk,
    new_public_id,
    public_id,
)


def _enum(enum_cls: type) -> Enum:
    return Enum(
        enum_cls,
        values_callable=lambda e: [m.value for m in e],
        native_enum=False,
        length=32,
        validate_strings=True,
    )


class User(UserMixin, Base):
    """One account per person, whatever the number of structures they belong to."""

    __tablename__ = "users"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    login: Mapped[str] = mapped_column(String(64), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    must_change_password: Mapped[bool_false]
    is_superadmin: Mapped[bool_false]
    locale: Mapped[str | None] = mapped_column(String(8))
    # Opaque id of the person's identity URL, the badge recipient of a worker with neither
    # email nor telephone (BDG-04); later the address of their public profile.
    # Nullable in the schema only because SQLite cannot add a NOT NULL column without a
    # default; every row gets one (migration 0005 fills existing accounts).
    identity_id: Mapped[str | None] = mapped_column(
        String(32), default=new_public_id, unique=True, index=True
    )
    # Opt-in: the public profile at the identity URL lists the badges the person chose
    # (SHR-09); it answers 404 while this is off.
    profile_public: Mapped[bool_false]
    created_at: Mapped[created_at]
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id"
    )

    def __repr__(self) -> str:
        return f"<User {self.login}>"

    @property
    def is_active(self) -> bool:  # flask-login: a deactivated account cannot sign in
        return self.deactivated_at is None

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_id(self) -> str:
        return self.public_id


class Structure(Base):
    """An employing structure (SIAE, GEIQ, training body…); also an Open Badges issuer."""

    __tablename__ = "structures"

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[StructureKind] = mapped_column(_enum(StructureKind), default=StructureKind.OTHER)
    model: Mapped[StructureModel] = mapped_column(
        _enum(StructureModel), default=StructureModel.TREMPLIN
    )
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    email: Mapped[str | None] = mapped_column(String(254))
    url: Mapped[str | None] = mapped_column(String(500))
    # As an Open Badges issuer (BDG-01): the name shown on badges, a factual description, and
    # the network the structure belongs to (shown on the HTML profile only).
    issuer_name: Mapped[str | None] = mapped_column(String(200))
    issuer_description: Mapped[str | None] = mapped_column(Text)
    network_name: Mapped[str | None] = mapped_column(String(200))
    # LinkedIn's numeric id of the structure's company page, so that "Ajouter à LinkedIn"
    # shows the issuer's logo (SHR-04); its name is used when unset.
    linkedin_organization_id: Mapped[str | None] = mapped_column(String(20))
    role_titles: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # "pictos3" (3 pictogram choices) or "levels5" (the 5 levels in words), SELF-04.
    self_assessment_format: Mapped[str] = mapped_column(
        String(16), default="pictos3", server_default="pictos3"
    )
    # Four-eyes rule (VAL-02): a validateur may not approve evidence they alone produced.
    four_eyes: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[created_at]
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    memberships: Mapped[list[Membership]] = relationship(back_populates="structure")
    teams: Mapped[list[Team]] = relationship(back_populates="structure", order_by="Team.name")

    def __repr__(self) -> str:
        return f"<Structure {self.name}>"

    @property
    def issuer_display_name(self) -> str:
        """The name badges show: the one the structure chose, else its own name."""
        return self.issuer_name or self.name


class Membership(Base):
    """A person's place in one structure, with roles. Ending it never ends the account."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "structure_id"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    started_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)
    referent_id: Mapped[int | None] = mapped_column(ForeignKey("memberships.id"))
    # Set by an admin to let a conseiller or encadrant follow every worker of the structure.
    sees_all_workers: Mapped[bool_false]
    created_at: Mapped[created_at]

    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    structure: Mapped[Structure] = relationship(back_populates="memberships")
    roles: Mapped[list[MembershipRole]] = relationship(
        back_populates="membership", cascade="all, delete-orphan", order_by="MembershipRole.role"
    )
    referent: Mapped[Membership | None] = relationship(remote_side="Membership.id")
    team_links: Mapped[list[TeamMember]] = relationship(back_populates="membership")

    def __repr__(self) -> str:
        return f"<Membership {self.user_id}@{self.structure_id}>"

    @property
    def role_set(self) -> frozenset[Role]:
        return frozenset(r.role for r in self.roles)

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    @property
    def is_staff(self) -> bool:
        return any(role.is_staff for role in self.role_set)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.role_set.intersection(roles))


class MembershipRole(Base):
    """One role held in one membership."""

    __tablename__ = "membership_roles"
    __table_args__ = (UniqueConstraint("membership_id", "role"),)

    id: Mapped[intpk]
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role))

    membership: Mapped[Membership] = relationship(back_populates="roles")


class Team(Base):
    """A team of workers led by one or more encadrants."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("structure_id", "name"),)

    id: Mapped[intpk]
    public_id: Mapped[public_id]
    structure_id: Mapped[int] = mapped_column(ForeignKey("structures.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[created_at]
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    structure: Mapped[Structure] = relationship(back_populates="teams")
    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan"
    )


class TeamMember(Base):
    """A membership in a team, as leader (encadrant) or member (worker)."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "membership_id"),)

    id: Mapped[intpk]
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    membership_id: Mapped[int] = mapped_column(ForeignKey("memberships.id"), index=True)
    is_leader: Mapped[bool_false]

    team: Mapped[Team] = relationship(back_populates="members")
    membership: Mapped[Membership] = relationship(back_populates="team_links")


class OneTimeCode(Base):
    """A code that signs a person in once, then forces a new secret of their own.

    Only its hash is stored. Invitation and reset codes expire within days; printed
    recovery codes have no expiry but each works once.
    """

    __tablename__ = "one_time_codes"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[CodeKind] = mapped_column(_enum(CodeKind))
    code_hash: Mapped[str] = mapped_column(String(255))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[created_at]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(foreign_keys=[user_id])
