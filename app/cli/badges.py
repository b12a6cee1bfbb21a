"""``flask badges …``: issue approved decisions, list issued badges, re-issue a person's
badges to their current identity, verify a badge."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from app.domain.errors import DomainError
from app.extensions import db
from app.models import Assertion
from app.models.base import utcnow
from app.openbadges import iso8601
from app.services import badges as service
from app.services import notifications
from app.services.senders import senders_from_config


@click.group("badges", help="Badges numériques (Open Badges 2.0).")
def group() -> None:
    pass


@group.command("issue")
@click.option("--apply", is_flag=True, help="Délivrer (sinon : dire ce qui serait fait).")
@with_appcontext
def issue(apply: bool) -> None:
    """Issue a badge for every approved decision that has none yet, in one transaction."""
    pending = service.approved_without_badge(db.session)
    if not pending:
        click.echo("Every approved decision has its badge.")
        return
    if not apply:
        for proposal in pending:
            click.echo(
                f"would issue: {service.badge_name(proposal.template, proposal.level)} "
                f"({proposal.worker.structure.name}, decision {proposal.public_id})"
            )
        click.echo(f"Dry run: {len(pending)} badge(s), nothing written. Add --apply to issue.")
        return
    issuing = service.Issuing.from_config(current_app.config)
    now = utcnow()
    try:
        with click.progressbar(pending, label="Délivrance", show_pos=True) as bar:
            issued = list(service.issue_all(db.session, bar, issuing=issuing, now=now))
    except service.IssuanceError as error:
        db.session.rollback()
        raise click.ClickException(f"nothing issued: {error.message}") from error
    base_url = str(current_app.config["BASE_URL"])
    outgoing = [
        notifications.queue_badge_pending(db.session, assertion=a, base_url=base_url, now=now)
        for a in issued
    ]
    db.session.commit()
    click.echo(f"issued: {len(pending)} badge(s)")
    _deliver(outgoing, now)  # told once the badges are committed


@group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Une liste JSON, un objet par badge.")
@with_appcontext
def list_badges(as_json: bool) -> None:
    """Every issued badge: state, recipient type, hosted URL, JWS and baked downloads."""
    urls = service.Issuing.from_config(current_app.config).urls
    now = utcnow()
    rows = [
        {
            "id": a.public_id,
            "name": service.badge_name(a.badge_class.template, a.badge_class.level),
            "state": a.status(now),
            "consent": a.consent,
            "on_profile": a.on_profile,
            "revocation_reason": a.revocation_reason,
            "replaces": a.replaces.public_id if a.replaces else None,
            "recipient_type": a.recipient_type,
            "issued_on": iso8601(a.issued_on),
            "expires": iso8601(a.expires_at) if a.expires_at else None,
            "hosted_url": urls.assertion(a.public_id),
            "jws": a.jws,
            "png_url": urls.baked(a.public_id, "png"),
            "svg_url": urls.baked(a.public_id, "svg"),
            "signed_png_url": urls.baked(a.public_id, "png", signed=True),
            "signed_svg_url": urls.baked(a.public_id, "svg", signed=True),
        }
        for a in db.session.scalars(select(Assertion).order_by(Assertion.issued_on, Assertion.id))
    ]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        click.echo(f"{row['id']}\t{row['state']}\t{row['recipient_type']}\t{row['name']}")


@group.command("reissue")
@click.option("--worker", "login", required=True, help="Identifiant de la personne.")
@click.option("--apply", is_flag=True, help="Ré-émettre (sinon : dire ce qui serait fait).")
@with_appcontext
def reissue(login: str, apply: bool) -> None:
    """Re-issue a person's badges that still name their former email or telephone (BDG-04).

    Each old badge is revoked (« identité mise à jour ») and replaced for the same decision,
    with the person's choices kept. Only the kinds of identity are printed, never their values.
    """
    from app.services import accounts, identities

    user = accounts.find_by_login(db.session, login)
    if user is None:
        raise click.ClickException(f"no account with the identifier {login!r}")
    issuing = service.Issuing.from_config(current_app.config)
    stale = identities.stale_badges(db.session, user, issuing)
    if not stale:
        click.echo(f"Every badge of {user.login} names their current identity.")
        return
    now = utcnow()
    if not apply:
        for a in stale:
            kind, _ = service.recipient_identity(user, a.structure, issuing.urls)
            click.echo(
                f"would re-issue: {a.public_id}\t{a.status(now)}\t{a.recipient_type} -> {kind}\t"
                f"{service.badge_name(a.badge_class.template, a.badge_class.level)} "
                f"({a.structure.name})"
            )
        click.echo(f"Dry run: {len(stale)} badge(s), nothing written. Add --apply to re-issue.")
        return
    try:
        pairs = identities.reissue_to_current_identity(
            db.session, user=user, issuing=issuing, now=now, actor=None
        )
        outgoing = notifications.queue_badges_renewed(
            db.session, pairs=pairs, base_url=str(current_app.config["BASE_URL"]), now=now
        )
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"nothing re-issued: {error.message}") from error
    db.session.commit()
    for old, new in pairs:
        click.echo(f"re-issued: {old.public_id} -> {new.public_id} ({new.recipient_type})")
    click.echo(f"re-issued: {len(pairs)} badge(s)")
    if outgoing:
        _deliver(outgoing, now)


def _deliver(outgoing: list[notifications.Outgoing], now: datetime) -> None:
    """Send messages recorded with a committed action, commit the attempts, and sum up.

    A failed send is kept on its notification, for the admin's page; a message written to
    the outbox (no provider) is counted apart: it was not sent.
    """
    senders = senders_from_config(current_app.config)
    counts = Counter(
        notifications.outcome(o, notifications.deliver(db.session, o, senders=senders, now=now))
        for o in outgoing
    )
    db.session.commit()
    click.echo(f"notified: {notifications.summary(counts)}")


@group.command("verify")
@click.argument("source")
@click.option("--recipient", help="E-mail, téléphone ou URL de la personne (facultatif).")
@click.option("--json", "as_json", is_flag=True, help="Le résultat en JSON.")
@click.option(
    "--offline", is_flag=True, help="Ne rien chercher sur le réseau (badges de cette instance)."
)
@with_appcontext
def verify(source: str, recipient: str | None, as_json: bool, offline: bool) -> None:
    """Verify a badge: a URL, a JWS, or the path of a JSON, PNG or SVG file.

    Badges of this instance are checked against the database; others over HTTP(S). Exit
    status 0 when valid, 1 when not.
    """
    from pathlib import Path

    from app.services import verification

    given: str | bytes = source
    try:
        if Path(source).is_file():
            given = Path(source).read_bytes()
    except OSError:  # a JWS is no file name (too long)
        pass
    result = verification.verify_badge(
        db.session,
        given,
        issuing=service.Issuing.from_config(current_app.config),
        now=utcnow(),
        recipient=(recipient or "").strip() or None,
        country=current_app.config["DEFAULT_COUNTRY"],
        remote=None if offline else verification.http_fetch,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "valid": result.valid,
                    "method": result.method,
                    "checks": [
                        {"code": c.code, "ok": c.ok, "reason": c.reason} for c in result.checks
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        for check in result.checks:
            click.echo(f"{'ok  ' if check.ok else 'FAIL'} {check.code:<16} {check.reason}")
        click.echo("valid" if result.valid else "INVALID")
    raise SystemExit(0 if result.valid else 1)
