"""Issuing Open Badges 2.0: issuer profiles, keys, BadgeClasses, signed and hosted assertions.

Every approved decision becomes one assertion (BDG-03). The assertion row, its JWS and its
audit row are written in the caller's transaction, so they exist together or not at all;
the private key is read from ``keys_dir`` and never stored in the database.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, joinedload, object_session

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
    AuditEvent,
    BadgeClass,
    BadgeTemplate,
    Competence,
    Membership,
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
        .where(
            Assertion.structure_id == structure.id,
            Assertion.revoked_at.is_not(None),
            Assertion.consent == "accepted",  # never published: nothing to withdraw publicly
        )
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
    revoked = signed_by is None and assertion.revoked_at is not None
    return _assertion_json(
        urls,
        public_id=assertion.public_id,
        badge_url=urls.badge_class(assertion.badge_class.public_id),
        recipient_type=assertion.recipient_type,
        salt=assertion.salt,
        recipient_hash=assertion.recipient_hash,
        issued_on=assertion.issued_on,
        expires_at=assertion.expires_at,
        evidence=assertion.evidence,
        verification=(
            openbadges.documents.verification_signed(urls.key(signed_by.public_id))
            if signed_by is not None
            else openbadges.documents.verification_hosted()
        ),
        # A revoked hosted badge keeps answering, saying so (OB 2.0); its JWS is unchanged.
        revoked=revoked,
        revocation_reason=revocation_wording(assertion) if revoked else None,
    )


def _assertion_json(
    urls: PublicUrls,
    *,
    public_id: str,
    badge_url: str,
    recipient_type: str,
    salt: str,
    recipient_hash: str,
    issued_on: datetime,
    expires_at: datetime | None,
    evidence: str,
    verification: dict[str, Any],
    revoked: bool = False,
    revocation_reason: str | None = None,
) -> dict[str, Any]:
    """``assertion_document`` from an assertion's values (issuance signs them before the row
    exists): the badge class URL and the verification object given as they are."""
    return openbadges.documents.assertion(
        id=urls.assertion(public_id),
        badge_class_id=badge_url,
        recipient={
            "type": recipient_type,
            "hashed": True,
            "salt": salt,
            "identity": recipient_hash,
        },
        issued_on=issued_on,
        verification=verification,
        expires=expires_at,
        evidence_narrative=evidence,
        revoked=revoked,
        revocation_reason=revocation_reason,
    )


def revocation_wording(assertion: Assertion) -> str | None:
    """The public French words of why a badge was withdrawn."""
    if assertion.revocation_reason is None:
        return None
    return REVOCATION_WORDING[RevocationReason(assertion.revocation_reason)]


#: Class images cut for baking, one ``PngLayouts`` per database (what a session is bound to:
#: an engine, or a connection in tests): a class's image never changes once stored (see
#: ``badge_class_for``), so its layout is found by class id alone, the image read only once.
_CLASS_PNGS: weakref.WeakKeyDictionary[Any, openbadges.PngLayouts] = weakref.WeakKeyDictionary()
_CLASS_PNGS_LOCK = threading.Lock()


def _class_pngs(bind: Any) -> openbadges.PngLayouts:
    layouts = _CLASS_PNGS.get(bind)
    if layouts is None:
        with _CLASS_PNGS_LOCK:
            layouts = _CLASS_PNGS.get(bind)
            if layouts is None:
                layouts = _CLASS_PNGS[bind] = openbadges.PngLayouts()
    return layouts


def _baked_payload(assertion: Assertion, urls: PublicUrls, signed: bool) -> str:
    """What a download bakes: the hosted JSON, or the JWS of the signed variant."""
    if signed:
        return assertion.jws
    return json.dumps(assertion_document(assertion, urls), ensure_ascii=False)


def bake_class_png(
    session: Session, class_id: str, image: Callable[[], bytes], payload: str
) -> openbadges.BakedPng:
    """A class image with ``payload`` baked in: byte strings to send in order and a strong
    digest for the ETag (what a download does per request to bake).

    The layout is found by ``class_id`` among the layouts of ``session``'s database; only
    the first time is the image read (``image()``, the deferred column) and cut, every CRC
    checked. Each bake then makes just its iTXt chunk and the digest.
    """
    layout = _class_pngs(session.get_bind()).get(class_id, image)
    return openbadges.baked_png_parts(layout, payload)


def baked_png(
    assertion: Assertion, urls: PublicUrls, *, signed: bool = False
) -> openbadges.BakedPng:
    """The baked PNG download (BDG-07), in parts with its digest: ``baked_file`` not joined."""
    badge_class = assertion.badge_class
    payload = _baked_payload(assertion, urls, signed)
    session = object_session(assertion)
    if session is None:  # a detached badge: nothing says which database it came from
        return openbadges.baked_png_parts(openbadges.png_layout(badge_class.image_png), payload)
    return bake_class_png(session, badge_class.public_id, lambda: badge_class.image_png, payload)


def baked_file(assertion: Assertion, urls: PublicUrls, fmt: str, *, signed: bool = False) -> bytes:
    """The badge image with this badge baked in (BDG-07): ``fmt`` is ``png`` or ``svg``.

    Made on demand from the class image, never stored. A hosted badge bakes its JSON (OB 2.0
    baking), a signed one its JWS; the public download and the worker's export share this.
    """
    if fmt == "png":
        return b"".join(baked_png(assertion, urls, signed=signed).parts)
    if fmt == "svg":
        return openbadges.bake_svg(
            assertion.badge_class.image_svg.encode("utf-8"),
            _baked_payload(assertion, urls, signed),
            assertion_url=None if signed else urls.assertion(assertion.public_id),
        )
    raise ValueError(f"unknown image format: {fmt!r}")


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
    gets a new class, and issued badges keep pointing at theirs (BDG-02). Its images are
    written here once and never updated: downloads bake the PNG from a layout cut the first
    time and found again by class id (``bake_class_png``), never re-reading the image.
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
    return evidence_facts_of(session, [proposal])[0]


def evidence_facts_of(session: Session, proposals: Sequence[Proposal]) -> list[EvidenceFacts]:
    """``evidence_facts`` of each decision, their observations read in one statement."""
    wanted = {public_id for p in proposals for public_id in p.evidence or []}
    rows = {
        public_id: row
        for public_id, *row in session.execute(
            select(
                Observation.public_id,
                Observation.author_id,
                Observation.situation_id,
                WorkSituation.type,
                Observation.observed_at,
            )
            .join(WorkSituation, WorkSituation.id == Observation.situation_id)
            .where(Observation.public_id.in_(wanted))
        )
    }
    facts = []
    for proposal in proposals:
        zone = ZoneInfo(proposal.worker.structure.timezone)
        cited = (rows[i] for i in dict.fromkeys(proposal.evidence or []) if i in rows)
        facts.append(
            EvidenceFacts.gather(
                proposal.level, ((a, s, t, at.astimezone(zone).date()) for a, s, t, at in cited)
            )
        )
    return facts


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
    (assertion,) = issue_batch(
        session, [proposal], issuing=issuing, now=now, issued_on=issued_on, expires_at=expires_at
    )
    return assertion


def _load_for_issuance(
    session: Session, proposals: Sequence[Proposal]
) -> tuple[dict[int, Membership], dict[int, BadgeTemplate]]:
    """The decisions' workers (with account and structure) and templates, by id, in two
    statements rather than one lazy load (or refresh, after a commit) each."""
    workers = session.scalars(
        select(Membership)
        .options(joinedload(Membership.user), joinedload(Membership.structure))
        .where(Membership.id.in_({p.worker_id for p in proposals}))
        .execution_options(populate_existing=True)  # objects expired by a commit, refreshed
    )
    templates = session.scalars(
        select(BadgeTemplate)
        .where(BadgeTemplate.id.in_({p.template_id for p in proposals}))
        .execution_options(populate_existing=True)
    )
    return {w.id: w for w in workers}, {t.id: t for t in templates}


def _classes_of(
    session: Session, proposals: Sequence[Proposal]
) -> dict[tuple[int, int, int], BadgeClass]:
    """The existing BadgeClasses of the decisions' templates, by (structure, template, level)."""
    found = session.scalars(
        select(BadgeClass).where(
            BadgeClass.structure_id.in_({p.structure_id for p in proposals}),
            BadgeClass.template_id.in_({p.template_id for p in proposals}),
        )
    )
    return {(c.structure_id, c.template_id, c.level): c for c in found}


def issue_batch(
    session: Session,
    proposals: Sequence[Proposal],
    *,
    issuing: Issuing,
    now: datetime,
    issued_on: datetime | None = None,
    expires_at: datetime | None = None,
) -> list[Assertion]:
    """Issue the badges of approved decisions: each its assertion row, JWS and audit row, all
    written in one flush (the caller commits; a failure rolls all back).

    What every badge shares is read once: the decisions' people and templates, the issuer's
    key and its private half, the BadgeClasses (a missing one is made on first use), the
    evidence observations; nothing is looked up per badge.
    """
    if any(p.status != "approved" for p in proposals):
        raise IssuanceError("Seule une décision validée donne lieu à un badge.")
    ids = [p.id for p in proposals]
    already = session.scalar(select(Assertion.id).where(Assertion.proposal_id.in_(ids)).limit(1))
    if already is not None or len(set(ids)) != len(ids):
        raise IssuanceError("Ce badge a déjà été délivré.")
    workers, templates = _load_for_issuance(session, proposals)
    classes = _classes_of(session, proposals)
    signing_keys: dict[int, SigningKey] = {}
    urls = issuing.urls
    # What is the same for many badges of the batch, made once: each class's URL, each
    # key's verification object, each person's normalised identity (a telephone number is
    # parsed once), the audit rows' shared values.
    class_urls: dict[int, str] = {}
    verifications: dict[int, dict[str, Any]] = {}
    identities: dict[tuple[int, int], tuple[str, str]] = {}
    rows: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    on = issued_on or now
    for proposal, facts in zip(proposals, evidence_facts_of(session, proposals), strict=True):
        worker, template = workers[proposal.worker_id], templates[proposal.template_id]
        structure, user = worker.structure, worker.user
        key = signing_keys.get(structure.id)
        if key is None:
            key = signing_keys[structure.id] = signing_key_for(session, structure, issuing, now)
            verifications[key.id] = openbadges.documents.verification_signed(
                urls.key(key.public_id)
            )
        badge_class = classes.get((structure.id, template.id, proposal.level))
        if badge_class is None:
            badge_class = classes[structure.id, template.id, proposal.level] = badge_class_for(
                session,
                structure=structure,
                template=template,
                level=proposal.level,
                urls=urls,
                now=now,
            )
        class_url = class_urls.get(badge_class.id)
        if class_url is None:
            class_url = class_urls[badge_class.id] = urls.badge_class(badge_class.public_id)
        until = expires_at
        if until is None and template.validity_days:
            until = on + timedelta(days=template.validity_days)
        recipient = identities.get((user.id, structure.id))
        if recipient is None:
            recipient = identities[user.id, structure.id] = recipient_identity(
                user, structure, urls
            )
        kind, identity = recipient
        salt = openbadges.new_salt()
        row: dict[str, Any] = {
            "public_id": new_public_id(),  # known before the insert: signed, then written
            "structure_id": structure.id,
            "badge_class_id": badge_class.id,
            "proposal_id": proposal.id,
            "worker_id": proposal.worker_id,
            "user_id": user.id,
            "signing_key_id": key.id,
            "recipient_type": kind,
            "recipient_hash": openbadges.hash_identity(identity, salt),
            "salt": salt,
            "issued_on": on,
            "expires_at": until,
            "evidence": evidence_narrative(facts),
            "created_at": now,
        }
        document = _assertion_json(
            urls,
            public_id=row["public_id"],
            badge_url=class_url,
            recipient_type=kind,
            salt=salt,
            recipient_hash=row["recipient_hash"],
            issued_on=on,
            expires_at=until,
            evidence=row["evidence"],
            verification=verifications[key.id],
        )
        row["jws"] = openbadges.signing.sign(document, issuing.private_key(key))
        rows.append(row)
        events.append(
            audit.entry(
                action="badge.issued",
                now=now,
                subject=user,
                structure=structure,
                target=row["public_id"],
            )
        )
    # Two multi-row INSERTs for the batch (an ORM flush would write the assertions one by
    # one: ``replaces`` makes Assertion depend on itself), the assertions returned by theirs.
    session.flush()
    issued = list(
        session.scalars(insert(Assertion).returning(Assertion, sort_by_parameter_order=True), rows)
    )
    session.execute(insert(AuditEvent), events)
    return issued


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


#: Decisions issued per flush by ``issue_all`` (bounds the statements' parameters).
ISSUE_BATCH = 200


def issue_all(
    session: Session, proposals: Iterable[Proposal], *, issuing: Issuing, now: datetime
) -> Iterator[Assertion]:
    """Issue every decision, ``ISSUE_BATCH`` at a time (``issue_batch``): the badges in order,
    each batch once written (the caller commits; a failure rolls all back)."""
    pending = iter(proposals)
    while batch := list(islice(pending, ISSUE_BATCH)):
        yield from issue_batch(session, batch, issuing=issuing, now=now)
