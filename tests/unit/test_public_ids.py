"""Public ids: opaque, URL-safe, and usable as a command-line argument."""

from __future__ import annotations

import re
import secrets

from app.models.base import new_public_id

OPAQUE = re.compile(r"[A-Za-z0-9_-]{22}")


def test_public_ids_are_opaque_and_never_read_as_an_option(monkeypatch):
    # The first draw starts with "-" (as 1 in 64 does): another one is drawn.
    draws = iter(["-startsWithDash0000000", "AfterTheDash0000000000"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(draws))
    assert new_public_id() == "AfterTheDash0000000000"
    monkeypatch.undo()
    ids = {new_public_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert all(OPAQUE.fullmatch(i) and not i.startswith("-") for i in ids)
