"""What ``verify`` returns: a :class:`Verification` made of :class:`Check` results.

``CHECKS`` lists the stable check codes in the order they run (see ``app.openbadges.verifier``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.openbadges.revocation import RevocationStatus

__all__ = ["CHECKS", "Check", "Verification"]

CHECKS = (
    "input",
    "assertion",
    "badge_class",
    "issuer",
    "hosted",
    "signature",
    "key_owner",
    "key_not_revoked",
    "not_revoked",
    "not_expired",
    "issued_in_past",
    "recipient",
)


@dataclass(frozen=True)
class Check:
    """One verification step: its stable ``code``, whether it passed, and why."""

    code: str
    ok: bool
    reason: str


@dataclass(frozen=True)
class Verification:
    """The outcome of ``verify``: every check run, in ``CHECKS`` order, and what was read.

    The documents are those read during verification; they are trustworthy only when
    ``valid`` (an input that fails ``signature`` still shows its unverified payload).
    """

    valid: bool
    checks: tuple[Check, ...]
    method: str | None
    assertion: dict[str, Any] | None = None
    badge_class: dict[str, Any] | None = None
    issuer: dict[str, Any] | None = None
    key: dict[str, Any] | None = None
    revocation: RevocationStatus | None = None

    def failed(self) -> list[Check]:
        """The checks that did not pass (a stopped run lists only the first failure)."""
        return [check for check in self.checks if not check.ok]

    def check(self, code: str) -> Check | None:
        """The check with this code, or None when it was not run."""
        return next((check for check in self.checks if check.code == code), None)
