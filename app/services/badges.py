"""Issuing Open Badges 2.0: issuer profiles, keys, BadgeClasses, signed and hosted assertions.

Every approved decision becomes one assertion (BDG-03). The assertion row, its JWS and its
audit row are written in the caller's transaction, so they exist together or not at all;
the private key is read from ``keys_dir`` and never stored in the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import openbadges
from app.domain.badges import (
    REVOCATION_WORDING,
    EvidenceFacts,
    RevocationReason,
    evidence_narrative,
)
from app.domain.errors import DomainError
from app.models import (
    Assertion,
    BadgeClass,
    BadgeTemplate,
    Competence,
    Observation,
    Proposal,
    Referential,
    SigningKey,
    Structure,
    User,
    WorkSituation,
)
from app.models.base import new_public_id
from app.services import audit, keys
from app.services.artwork import render_artwork
from app.services.public_urls import PublicUrls

DEFAULT_ISSUER_DESCRIPTION = (
    "Structure employeuse. Les badges numériques qu'elle délivre reconnaissent des "
    "compétences observées en situation de travail réelle, vérifiées par une personne "
    "chargée de la validation avant leur délivrance."
)
PICTOS_DIR = Path(__file__).resolve().parent.parent / "web" / "static" / "pictos"


class IssuanceError(DomainError):
    """A badge cannot be issued (no key, a key file missing, nothing approved…)."""

    code = "issuance"
    status = 409


@dataclass
class Issuing:
    """What issuance needs from the configuration, plus a per-request key cache."""

    urls: PublicUrls
    keys_dir: Path
    key_size: int = openbadges.keys.KEY_SIZE
    #: The issuer email of a structure that gave none (OB 2.0 requires one).
    contact_email: str = "contact@jalon.invalid"
    _private_keys: dict[int, rsa.RSAPrivateKey] = field(default_factory=dict, repr=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Issuing:
        """From the application's settings (``BASE_URL``, ``KEYS_DIR``, ``KEY_SIZE``)."""
        return cls(
            urls=PublicUrls(config["BASE_URL"]),
            keys_dir=Path(config["KEYS_DIR"]),
            key_size=int(config["KEY_SIZE"]),
            contact_email=config["CONTACT_EMAIL"],
        )

    def private_key(self, key: SigningKey) -> rsa.RSAPrivateKey:
        """The private half of ``key``, read from its PEM file once per context."""
        if key.id not in self._private_keys:
            path = self.keys_dir / key.private_key_file
            if not path.is_file():
                raise IssuanceError(keys.missing_key_message(key, self.keys_dir))
            self._private_keys[key.id] = openbadges.load_private_key(path.read_bytes())
        return self._private_keys[key.id]


# -- Documents ---------------------------------------------------------------------------


def issuer_document(
    session: Session, structure: Structure, urls: PublicUrls, contact_email: str
) -> dict[str, Any]:
    """The structure as an OB 2.0 Issuer profile (BDG-01); ``contact_email`` if it has none."""
    issuer_url = urls.issuer(structure.public_id)
    return openbadges.documents.issuer_profile(
        id=issuer_url,
        name=structure.issuer_display_name,
        url=structure.url or issuer_url,
        email=structure.email or contact_email,
        description=structure.issuer_description or DEFAULT_ISSUER_DESCRIPTION,
        # Only the current key: the official validator refuses a profile with several, so
        # earlier keys stay published at their own URL, owned by this issuer (BDG-08).
        public_key_ids=[urls.key(k.public_id) for k in [keys.active_key(session, structure)] if k],
        revocation_list_url=urls.revocations(structure.public_id),
    )


def key_document(key: SigningKey, urls: PublicUrls) -> dict[str, Any]:
    """A public key as an OB 2.0 CryptographicKey, owned by its issuer.

    A compromised key stays published, marked ``revoked`` with the reason, so that a
    verifier can explain why the badges it signed no longer verify.
    """
    document = openbadges.documents.cryptographic_key(
        id=urls.key(key.public_id),
        owner=urls.issuer(key.structure.public_id),
        public_key_pem=key.public_key_pem,
    )
    if key.compromised_at is not None:
        document["revoked"] = True
        document["revocationReason"] = REVOCATION_WORDING[RevocationReason.KEY_COMPROMISED]
    return document


def revocation_list_document(
    session: Session, structure: Structure, urls: PublicUrls
) -> dict[str, Any]:
    """The issuer's RevocationList: every withdrawn badge with the public reason."""
    rows = session.execute(
        select(Assertion.public_id, Assertion.revocation_reason)
        .where(Assertion.structure_id == structure.id, Assertion.revoked_at.is_not(None))
        .order_by(Assertion.revoked_at, Assertion.id)
    ).all()
    return openbadges.documents.revocation_list(
        id=urls.revocations(structure.public_id),
        issuer_id=urls.issuer(structure.public_id),
        revoked=[
            (urls.assertion(pid), REVOCATION_WORDING[RevocationReason(reason)])
            for pid, reason in rows
        ],
    )


def _text(texts: dict[str, str]) -> str:
    return texts.get("fr") or next(iter(texts.values()), "")


def badge_name(template: BadgeTemplate, level: int) -> str:
    """« Travailler en équipe — niveau 4 »: the competence and the level, in one name."""
    if template.kind != "competence":
        return _text(template.name)
    return f"{_text(template.name)} — niveau {level}"


def level_label(template: BadgeTemplate, level: int) -> str | None:
    tier = template.tier(level)
    return _text(tier["name"]) if tier and tier.get("name") else None


def pinned_alignments(session: Session, template: BadgeTemplate) -> list[dict[str, Any]]:
    """What a new class aligns to: each competence in the referential version current now
    (with the competence's own ROME/ESCO codes), then the template's alignments."""
    pinned: list[dict[str, Any]] = []
    for ref in template.competences:
        referential_code, _, competence_code = ref.rpartition(":")
        row = session.execute(
            select(Competence, Referential)
            .join(Referential, Referential.id == Competence.referential_id)
            .where(
                Referential.code == referential_code,
                Referential.superseded_at.is_(None),
                Competence.code == competence_code,
            )
        ).first()
        if row is None:
            continue
        competence, referential = row
        pinned.append(
            {
                "kind": "referential",
                "name": _capitalised(_text(competence.name)),
                "framework": _text(referential.name),
                "code": ref,
                "referential": referential.code,
                "version": referential.version,
                "competence": competence.code,
            }
        )
        pinned.extend({"kind": "external", **a} for a in competence.alignments)
    pinned.extend({"kind": "external", **a} for a in template.alignments)
    return pinned


def _capitalised(text: str) -> str:
    """« planifier » → « Planifier » (the Bunk grid names its competences in lower case)."""
    return text[:1].upper() + text[1:]


def _alignment(item: dict[str, Any], urls: PublicUrls) -> dict[str, str]:
    if item["kind"] == "referential":
        return {
            "targetName": item["name"],
            "targetUrl": urls.competence(item["referential"], item["version"], item["competence"]),
            "targetFramework": item["framework"],
            "targetCode": item["code"],
        }
    out = {
        "targetName": item["label"],
        "targetUrl": item["url"],
        "targetFramework": item["framework"],
    }
    if item.get("code"):
        out["targetCode"] = item["code"]
    return out


def _picto(name: str | None) -> str | None:
    if not name:
        return None
    path = PICTOS_DIR / f"{name}.svg"
    return path.read_text(encoding="utf-8") if path.is_file() else None


def badge_class_document(badge_class: BadgeClass, urls: PublicUrls) -> dict[str, Any]:
    """The OB 2.0 BadgeClass, from its template version (immutable, so this never changes)."""
    template = badge_class.template
    return openbadges.documents.badge_class(
        id=urls.badge_class(badge_class.public_id),
        issuer_id=urls.issuer(badge_class.structure.public_id),
        name=badge_name(template, badge_class.level),
        description=_text(template.description),
        image_url=urls.class_image(badge_class.public_id, "png"),
        criteria_url=urls.criteria(badge_class.public_id),
        criteria_narrative=_text(template.narrative),
        alignments=[_alignment(a, urls) for a in badge_class.alignments],
        tags=list(template.tags),
    )


def assertion_document(
    assertion: Assertion, urls: PublicUrls, *, signed_by: SigningKey | None = None
) -> dict[str, Any]:
    """The OB 2.0 Assertion: hosted, or signed by ``signed_by`` (the JWS payload)."""
    verification = (
        openbadges.documents.verification_signed(urls.key(signed_by.public_id))
        if signed_by is not None
        else openbadges.documents.verification_hosted()
    )
    revoked = signed_by is None and assertion.revoked_at is not None
    return openbadges.documents.assertion(
        id=urls.assertion(assertion.public_id),
        badge_class_id=urls.badge_class(assertion.badge_class.public_id),
        recipient={
            "type": assertion.recipient_type,
            "hashed": True,
            "salt": assertion.salt,
            "identity": assertion.recipient_hash,
        },
        issued_on=assertion.issued_on,
        verification=verification,
        expires=assertion.expires_at,
        evidence_narrative=assertion.evidence,
        # A revoked hosted badge keeps answering, saying so (OB 2.0); its JWS is unchanged.
        revoked=revoked,
        revocation_reason=revocation_wording(assertion) if revoked else None,
    )


def revocation_wording(assertion: Assertion) -> str | None:
    """The public French words of why a badge was withdrawn."""
    if assertion.revocation_reason is None:
        return None
    return REVOCATION_WORDING[RevocationReason(assertion.revocation_reason)]


def badge_class_for(
    session: Session,
    *,
    structure: Structure,
    template: BadgeTemplate,
    level: int,
    urls: PublicUrls,
    now: datetime,
) -> BadgeClass:
    """The issuer's BadgeClass for this template version and level, made on first use.

    A template version never changes, so neither does its class: a new template version
    gets a new class, and issued badges keep pointing at theirs (BDG-02).
    """
    existing = session.scalar(
        select(BadgeClass).where(
            BadgeClass.structure_id == structure.id,
            BadgeClass.template_id == template.id,
            BadgeClass.level == level,
        )
    )
    if existing is not None:
        return existing
    art = render_artwork(
        title=_text(template.name),
        level=level,
        level_label=level_label(template, level),
        picto_svg=_picto(template.image),
    )
    openbadges.check_png(art.png)  # checked once here; downloads bake it unchecked
    badge_class = BadgeClass(
        structure_id=structure.id,
        template_id=template.id,
        level=level,
        alignments=pinned_alignments(session, template),
        image_png=art.png,
        image_svg=art.svg,
        created_at=now,
    )
    session.add(badge_class)
    session.flush()
    audit.record(
        session,
        action="badge_class.created",
        now=now,
        structure=structure,
        target=badge_class.public_id,
    )
    return badge_class


# -- Recipients and evidence ---------------------------------------------------------------


def recipient_identity(user: User, structure: Structure, urls: PublicUrls) -> tuple[str, str]:
    """(type, normalised identity): email, else telephone, else the account's identity URL."""
    if user.email:
        return "email", openbadges.normalise_identity("email", user.email)
    if user.phone:
        try:
            return "telephone", openbadges.normalise_identity(
                "telephone", user.phone, country=structure.country
            )
        except openbadges.RecipientError:
            pass  # an unusable number: the identity URL still identifies the person
    assert user.identity_id is not None
    return "url", openbadges.normalise_identity("url", urls.identity(user.identity_id))


def evidence_facts(session: Session, proposal: Proposal) -> EvidenceFacts:
    """The facts behind a decision: its evidence observations, in the structure's days."""
    zone = ZoneInfo(proposal.worker.structure.timezone)
    rows = session.execute(
        select(
            Observation.author_id,
            Observation.situation_id,
            WorkSituation.type,
            Observation.observed_at,
        )
        .join(WorkSituation, WorkSituation.id == Observation.situation_id)
        .where(Observation.public_id.in_(proposal.evidence or []))
    ).all()
    return EvidenceFacts.gather(
        proposal.level, ((a, s, t, at.astimezone(zone).date()) for a, s, t, at in rows)
    )


# -- Issuance ---------------------------------------------------------------------------------


def assertion_for(session: Session, proposal: Proposal) -> Assertion | None:
    """The badge issued for a decision, if any (re-issues come with revocation)."""
    return session.scalar(
        select(Assertion).where(Assertion.proposal_id == proposal.id).order_by(Assertion.id.desc())
    )


def signing_key_for(
    session: Session, structure: Structure, issuing: Issuing, now: datetime
) -> SigningKey:
    """The issuer's current key (made only if it never had one), its file checked."""
    try:
        key, _ = keys.ensure_key(
            session,
            structure=structure,
            keys_dir=issuing.keys_dir,
            now=now,
            key_size=issuing.key_size,
        )
    except keys.MissingPrivateKey as error:
        raise IssuanceError(str(error)) from error
    issuing.private_key(key)  # fail now, before anything is written, if the file is unreadable
    return key


def issue(
    session: Session,
    proposal: Proposal,
    *,
    issuing: Issuing,
    now: datetime,
    issued_on: datetime | None = None,
    expires_at: datetime | None = None,
) -> Assertion:
    """Issue the badge of an approved decision: hosted JSON + JWS + audit, in one flush."""
    if proposal.status != "approved":
        raise IssuanceError("Seule une décision validée donne lieu à un badge.")
    if assertion_for(session, proposal) is not None:
        raise IssuanceError("Ce badge a déjà été délivré.")
    structure = proposal.worker.structure
    urls = issuing.urls
    key = signing_key_for(session, structure, issuing, now)
    badge_class = badge_class_for(
        session,
        structure=structure,
        template=proposal.template,
        level=proposal.level,
        urls=urls,
        now=now,
    )
    issued_on = issued_on or now
    if expires_at is None and proposal.template.validity_days:
        expires_at = issued_on + timedelta(days=proposal.template.validity_days)
    user = proposal.worker.user
    kind, identity = recipient_identity(user, structure, urls)
    salt = openbadges.new_salt()
    recipient = openbadges.recipient(kind, identity, salt=salt, country=structure.country)
    evidence = evidence_narrative(evidence_facts(session, proposal))
    assertion = Assertion(
        public_id=new_public_id(),  # known before the insert: one flush, after signing
        structure_id=structure.id,
        badge_class=badge_class,
        proposal_id=proposal.id,
        worker_id=proposal.worker_id,
        user_id=user.id,
        signing_key_id=key.id,
        recipient_type=kind,
        recipient_hash=recipient["identity"],
        salt=salt,
        issued_on=issued_on,
        expires_at=expires_at,
        evidence=evidence,
        jws="",
        created_at=now,
    )
    assertion.jws = openbadges.signing.sign(
        assertion_document(assertion, urls, signed_by=key), issuing.private_key(key)
    )
    session.add(assertion)
    audit.record(  # flushes the assertion and its audit row together
        session,
        action="badge.issued",
        now=now,
        subject=user,
        structure=structure,
        target=assertion.public_id,
    )
    return assertion


def approved_without_badge(
    session: Session, structure: Structure | None = None
) -> Sequence[Proposal]:
    """Approved decisions that have no badge yet (what ``flask badges issue`` would issue)."""
    query = (
        select(Proposal)
        .where(Proposal.status == "approved", ~Proposal.id.in_(select(Assertion.proposal_id)))
        .order_by(Proposal.decided_at, Proposal.id)
    )
    if structure is not None:
        query = query.where(Proposal.structure_id == structure.id)
    return session.scalars(query).all()


def issue_all(
    session: Session, proposals: Sequence[Proposal], *, issuing: Issuing, now: datetime
) -> Iterator[Assertion]:
    """Issue each decision in turn (the caller commits; a failure rolls all back)."""
    for proposal in proposals:
        yield issue(session, proposal, issuing=issuing, now=now)
