"""``flask`` commands, grouped by area (plural names); data changes need ``--apply``."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    """Add every command group to ``app.cli``."""
    from app.cli import (
        assessments,
        badge_templates,
        badges,
        demo,
        keys,
        notifications,
        referentials,
    )

    app.cli.add_command(referentials.group)
    app.cli.add_command(keys.group)
    app.cli.add_command(demo.group)
    app.cli.add_command(assessments.group)
    app.cli.add_command(badge_templates.group)
    app.cli.add_command(badges.group)
    app.cli.add_command(notifications.group)
