"""``flask notifications send-due [--apply]``: send the messages whose date has come.

Today these are the reminders after a worker left (``app.services.exit_reminders``,
SHR-11). Meant for cron, for example every hour; a run with nothing due does nothing.
Addresses are shown masked, names never.
"""

from __future__ import annotations

from collections import Counter

import click
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.models.base import utcnow
from app.services import exit_reminders, notifications
from app.services.senders import Senders, mask_address, senders_from_config


@click.group("notifications", help="Messages SMS et e-mail aux personnes.")
def group() -> None:
    pass


def _describe(item: exit_reminders.DueReminder, senders: Senders) -> str:
    n = item.notification
    channel = notifications.channel_for(n.user, senders)
    to = mask_address(notifications.address_for(n.user, channel))
    return (
        f"{n.kind} {n.public_id}\t{n.structure.name}\t{channel} {to}\t"
        f"due {n.due_at.isoformat(timespec='minutes') if n.due_at else '-'}"
    )


@group.command("send-due")
@click.option("--apply", is_flag=True, help="Envoyer (sinon : dire ce qui serait envoyé).")
@with_appcontext
def send_due(apply: bool) -> None:
    """Send every reminder that is due, or give it up with its reason; one commit each."""
    now = utcnow()
    due = exit_reminders.due(db.session, now=now)
    if not due:
        click.echo("Nothing is due.")
        return
    senders = senders_from_config(current_app.config)
    if not apply:
        for item in due:
            channel = notifications.channel_for(item.notification.user, senders)
            if item.skip:
                verb = f"would skip ({item.skip})"
            elif channel == notifications.NO_CHANNEL:
                verb = "would record, no phone or e-mail"
            elif not senders.delivers(channel):
                verb = "would write to the outbox only (no provider)"
            else:
                verb = "would send"
            click.echo(f"{verb}: {_describe(item, senders)}")
        db.session.rollback()
        click.echo(f"Dry run: {len(due)} message(s) due, nothing written. Add --apply to send.")
        return
    base_url = str(current_app.config["BASE_URL"])
    counts: Counter[str] = Counter()
    for item in due:
        if not exit_reminders.claim(db.session, item.notification):
            db.session.rollback()
            counts["taken"] += 1
            continue
        outgoing = exit_reminders.prepare(db.session, item, base_url=base_url)
        if outgoing is None:
            counts[str(item.skip)] += 1
        else:
            delivered = notifications.deliver(db.session, outgoing, senders=senders, now=now)
            counts[notifications.outcome(outgoing, delivered)] += 1
        # One commit per message: a crash later on never sends this one twice.
        db.session.commit()
    click.echo(f"{len(due)} due: {_summary(counts)}")


def _summary(counts: Counter[str]) -> str:
    skipped = sorted((why, n) for why, n in counts.items() if why in exit_reminders.SKIP_REASONS)
    text = f"{notifications.summary(counts)}, {sum(n for _, n in skipped)} skipped"
    if skipped:
        text += " (" + ", ".join(f"{why}: {n}" for why, n in skipped) + ")"
    if counts["taken"]:
        text += f", {counts['taken']} taken by another run"
    return text
