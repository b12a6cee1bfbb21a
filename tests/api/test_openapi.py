"""The OpenAPI description: valid, in step with the routes, and honoured by the live API.

Schemathesis generates requests for every operation (valid and invalid ones) against a
real server; no answer may be a 5xx, and every answer must match the description.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from app.web.api.spec import load_spec
from tests.api import api_token, place

PREFIX = "/api/v1"
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


def test_the_description_is_a_valid_openapi_document():
    spec = load_spec()
    assert spec["openapi"].startswith("3.1")
    validate(spec)


def test_the_description_is_served_as_json(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.json == load_spec()


def _route_operations(app: Flask) -> set[tuple[str, str]]:
    operations = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX + "/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
        for method in rule.methods or ():
            if method.lower() in HTTP_METHODS:
                operations.add((path, method.lower()))
    return operations


def _described_operations() -> set[tuple[str, str]]:
    spec = load_spec()
    assert spec["servers"] == [{"url": PREFIX}]
    return {
        (path, method)
        for path, item in spec["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def test_paths_and_api_routes_match_both_ways(app):
    routes = _route_operations(app)
    described = _described_operations()
    assert routes - described == set(), "routes missing from openapi.yaml"
    assert described - routes == set(), "openapi.yaml describes routes that do not exist"
    assert len(routes) >= 5  # the walk did find the API


#: Operations anyone may call: the document itself, and badge verification (VER-01).
PUBLIC_PATHS = {"/openapi.json", "/verify"}


def test_every_operation_documents_its_errors_and_security():
    spec = load_spec()
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in HTTP_METHODS or path in PUBLIC_PATHS:
                continue
            assert {"400", "401", "403", "404"} <= set(operation["responses"]), (path, method)
            assert "security" not in operation, "every data operation needs the bearer token"


def test_verification_needs_no_token_and_documents_bad_input_and_throttling():
    spec = load_spec()
    for method, operation in spec["paths"]["/verify"].items():
        assert operation["security"] == [], method
        assert {"200", "400", "429"} <= set(operation["responses"]), method


# --- Schemathesis against the live server ---------------------------------------------

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]
MAX_EXAMPLES = 25


def _strategies(schema: Any, real: dict[str, str]) -> list[tuple[str, Any]]:
    """For each operation: generated cases, half of them aimed at real ids of the world."""
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        wanted = {k: v for k, v in real.items() if k in operation.path_parameters}
        mixed = []
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            mixed.append(operation.as_strategy(generation_mode=mode))
            if wanted:
                mixed.append(operation.as_strategy(generation_mode=mode, path_parameters=wanted))
        found.append((operation.label, st.one_of(mixed)))
    return found


def test_schemathesis_finds_no_server_error_and_no_off_schema_answer(live_server):
    p = place(live_server.app, "marc.encadrant")
    token = api_token(live_server.app, "marc.encadrant")
    schema = schemathesis.openapi.from_url(f"{live_server.url}{PREFIX}/openapi.json")
    base_url = f"{live_server.url}{PREFIX}"
    headers = {"Authorization": f"Bearer {token}"}
    operations = _strategies(schema, {"structure_id": p.structure, "observation_id": p.observation})
    labels = {label for label, _ in operations}
    assert {f"{m.upper()} {path}" for path, m in _described_operations()} - labels <= {
        "GET /openapi.json"  # schemathesis leaves out the document it was loaded from
    }
    statuses: dict[str, set[int]] = {}

    for _label, strategy in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: Any) -> None:
            response = case.call(base_url=base_url, headers=headers, timeout=30)
            statuses.setdefault(case.operation.label, set()).add(response.status_code)
            case.validate_response(response, checks=CHECKS, headers=headers)

        run()

    # The run reached past authentication and into the real structure's data.
    assert set(statuses) == {label for label, _ in operations}
    everything = set().union(*statuses.values())
    assert {200, 400, 404} <= everything, statuses


def _capture_bodies(p: Any) -> Any:
    """Capture bodies on the world's real ids, with generated levels, comments and dates."""
    stamp = st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
    ).map(lambda d: d.isoformat())
    item = st.fixed_dictionaries(
        {
            "worker": st.sampled_from([*p.workers.values(), "inconnu"]),
            "competence": st.sampled_from(p.competences),
            "level": st.one_of(st.none(), st.integers(min_value=-2, max_value=7)),
        },
        optional={"comment": st.one_of(st.none(), st.text(max_size=520))},
    )
    return st.fixed_dictionaries(
        {"situation": st.just(p.situation), "items": st.lists(item, min_size=1, max_size=4)},
        optional={"observed_at": st.one_of(st.none(), stamp)},
    )


def test_captures_on_real_ids_with_generated_content_never_break_the_api(live_server):
    """Past the ids: levels, free text (any Unicode), dates and keys reach the database."""
    p = place(live_server.app, "marc.encadrant")
    token = api_token(live_server.app, "marc.encadrant")
    schema = schemathesis.openapi.from_url(f"{live_server.url}{PREFIX}/openapi.json")
    operation = schema["/structures/{structure_id}/observations"]["POST"]
    base_url = f"{live_server.url}{PREFIX}"
    keys = st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=80
    )
    statuses: set[int] = set()

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(body=_capture_bodies(p), key=st.one_of(keys, st.sampled_from(["world-karim", "x" * 8])))
    def run(body: dict[str, Any], key: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
        case = operation.Case(
            path_parameters={"structure_id": p.structure}, headers=headers, body=body
        )
        response = case.call(base_url=base_url, timeout=30)
        statuses.add(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    assert {201, 404, 409, 422} <= statuses, statuses
