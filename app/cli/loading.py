"""What ``referentials load`` and ``badge-templates load`` share: report, dry run, apply."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from app.domain.errors import DomainError
from app.extensions import db
from app.models.base import utcnow


def load_files(
    plan: Callable[[], Any],
    apply_plan: Callable[..., Any],
    *,
    apply: bool,
    invalid: type[Exception],
    what: str,
) -> None:
    """Plan a load (all or nothing), print it, and write it only with ``apply``."""
    try:
        result = plan()
    except invalid as error:
        for issue in getattr(error, "issues", []):
            click.echo(f"error: {issue}", err=True)
        click.echo("Nothing loaded.", err=True)
        sys.exit(1)
    except DomainError as error:
        click.echo(f"error: {error.message}", err=True)
        click.echo("Nothing loaded.", err=True)
        sys.exit(1)
    for spec in result.new:
        click.echo(f"new: {spec.code} v{spec.version}")
    for spec in result.unchanged:
        click.echo(f"unchanged: {spec.code} v{spec.version}")
    if not result.changes:
        click.echo("Nothing to change.")
        return
    if not apply:
        click.echo("Dry run: nothing written. Add --apply to load.")
        return
    apply_plan(db.session, result, now=utcnow(), actor=None)
    db.session.commit()
    click.echo(f"Loaded {len(result.new)} {what} version(s).")
