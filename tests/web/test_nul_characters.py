"""A NUL character in any text is refused with a 400 in French, never a server error.

PostgreSQL cannot store it; SQLite would. Both refuse it the same way.
"""

from __future__ import annotations

import pytest

from tests.support.world import STAFF_SECRET

pytestmark = pytest.mark.db


def test_a_nul_character_in_a_form_is_a_clear_400(world_client) -> None:
    response = world_client.post(
        "/connexion", data={"login": "claire\x00.admin", "secret": STAFF_SECRET}
    )
    assert response.status_code == 400
    assert "caractère non autorisé" in response.get_data(as_text=True)


def test_a_nul_character_in_api_json_or_a_header_is_a_clear_400(world_client) -> None:
    answer = world_client.post("/api/v1/observations", json={"comment": "ok\x00"})
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "bad_request"
    assert "caractère non autorisé" in answer.get_json()["message"]
    header = world_client.get("/api/v1/moi", headers={"Idempotency-Key": "a\x00b"})
    assert header.status_code == 400
