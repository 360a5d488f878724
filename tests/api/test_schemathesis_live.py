"""schemathesis against the OpenAPI document a real uvicorn server serves on a free port.

Every operation is driven with schema-valid and schema-invalid data, with a client's token (who
may write) and an operator's (staff, who sees every tenant): no answer is a 5xx, and every answer
matches the schema the server itself published. Examples are bounded so a run takes seconds.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from twinrail.api.domain.roles import Role

from .conftest import LiveServer, caller_for_services

POSITIVE, NEGATIVE = schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE
CHECKS = [not_a_server_error, response_schema_conformance]


def _exercise(operation: Any, mode: schemathesis.GenerationMode, token: str, base: str) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=2,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        if mode is POSITIVE or "Idempotency-Key" not in (case.headers or {}):
            headers["Idempotency-Key"] = uuid.uuid4().hex  # fresh, so that each case runs
        case.call_and_validate(base_url=base, headers=headers, checks=CHECKS)

    try:
        exercise()
    except Unsatisfiable:
        assert mode is NEGATIVE  # an operation without inputs has nothing to get wrong


def _run(app: FastAPI, role: Role) -> None:
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        token = caller_for_services(http, app.state.services, role).token
        schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
        operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
        assert len(operations) >= 18
        for operation in operations:
            for mode in (POSITIVE, NEGATIVE):
                _exercise(operation, mode, token, server.url)


def test_the_live_server_answers_a_client_without_5xx_and_as_its_openapi_says(
    app: FastAPI,
) -> None:
    _run(app, Role.CLIENT)


def test_the_live_server_answers_an_operator_without_5xx_and_as_its_openapi_says(
    sqlite_app: FastAPI,
) -> None:
    _run(sqlite_app, Role.OPERATOR)


def test_a_nul_character_anywhere_in_a_request_is_refused_as_invalid_not_a_fault(
    app: FastAPI,
) -> None:
    """What schemathesis found on PostgreSQL, whose text cannot hold NUL: now a 4xx problem."""
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        caller = caller_for_services(http, app.state.services, Role.CLIENT)
        headers = {**caller.headers, "Idempotency-Key": uuid.uuid4().hex}
        answers = {
            "body": http.post("/v1/customers", headers=headers,
                              json={"kind": "individual", "name": "A", "external_ref": "x\0y"}),
            "path": http.get("/v1/customers/cus_%00", headers=caller.headers),
            "query": http.get("/v1/accounts?customer_id=%00", headers=caller.headers),
            "form": http.post("/oauth/token", data={"grant_type": "client_credentials",
                                                    "client_id": "cli\0", "client_secret": "s"}),
        }  # fmt: skip
    assert {name: a.status_code for name, a in answers.items()} == {
        "body": 422, "path": 400, "query": 400, "form": 401,
    }  # fmt: skip
    for answer in answers.values():
        assert answer.headers["content-type"].startswith("application/problem+json")
