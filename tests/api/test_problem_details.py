"""Errors are RFC 9457 problem+json: stable types, request ids, invalid fields, nothing leaked."""

from __future__ import annotations

import inspect

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from twinrail.api.domain import errors as api_errors
from twinrail.api.domain.roles import Role
from twinrail.api.problems import ERROR_STATUS, PROBLEM_BASE
from twinrail.ledger.domain import errors as ledger_errors

from .conftest import make_app, new_caller


def _error_classes(module: object) -> list[type[Exception]]:
    return [
        obj
        for name in module.__all__  # type: ignore[attr-defined]
        if inspect.isclass(obj := getattr(module, name)) and issubclass(obj, Exception)
    ]


@pytest.mark.parametrize(
    "cls", _error_classes(ledger_errors) + _error_classes(api_errors), ids=lambda c: c.__name__
)
def test_every_error_class_has_an_explicit_status_and_a_dotted_code(cls: type) -> None:
    assert cls in ERROR_STATUS, f"{cls.__name__} is not mapped"
    status, title = ERROR_STATUS[cls]
    assert 400 <= status < 600 and title
    code: str = cls.code  # type: ignore[attr-defined]
    assert code.count(".") == 1 and code.split(".")[0] in ("api", "ledger")


def test_a_problem_carries_type_title_status_detail_and_the_request_id(
    sqlite_client: TestClient,
) -> None:
    response = sqlite_client.get("/v1/nothing-here", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["X-Request-ID"] == "abc-123"
    body = response.json()
    assert body["type"] == PROBLEM_BASE + "api.route_not_found"
    assert body["title"] and body["detail"] and body["status"] == 404
    assert body["request_id"] == "abc-123"


def test_a_request_id_is_generated_when_absent_and_replaced_when_unsafe(
    sqlite_client: TestClient,
) -> None:
    generated = sqlite_client.get("/healthz").headers["X-Request-ID"]
    assert generated.startswith("req_")
    unsafe = sqlite_client.get("/healthz", headers={"X-Request-ID": "<script>x</script>"})
    assert unsafe.headers["X-Request-ID"].startswith("req_")


def test_a_validation_problem_lists_the_invalid_fields_without_echoing_values(
    sqlite_client: TestClient,
) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    secret_email = "ada-private-" + "x" * 400 + "@example.com"
    response = sqlite_client.post(
        "/v1/customers",
        json={"kind": "robot", "name": "", "email": secret_email, "country": "gbr"},
        headers={**caller.headers, "Idempotency-Key": "validation-1"},
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "api.validation_failed"
    fields = {f["location"] for f in body["invalid_fields"]}
    assert {"body.kind", "body.name", "body.email", "body.country"} <= fields
    assert "ada-private" not in response.text


def test_a_ledger_rejection_becomes_its_own_problem_type(sqlite_client: TestClient) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    customer = sqlite_client.post(
        "/v1/customers",
        json={"kind": "individual", "name": "Grace"},
        headers={**caller.headers, "Idempotency-Key": "c-1"},
    ).json()
    response = sqlite_client.post(
        "/v1/accounts",
        json={"customer_id": customer["id"], "asset": "XAU"},
        headers={**caller.headers, "Idempotency-Key": "a-1"},
    )
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM_BASE + "ledger.unknown_asset"


def test_an_unexpected_error_is_a_bare_500_problem_without_a_stack_trace(
    sqlite_engine: Engine,
) -> None:
    app: FastAPI = make_app(sqlite_engine)
    boom = APIRouter()

    @boom.get("/boom", openapi_extra={"x-permission": "public"})
    def explode() -> None:
        raise RuntimeError("password=hunter2")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "boom-1"})
    assert response.status_code == 500
    assert response.json()["code"] == "api.internal_error"
    assert response.json()["request_id"] == "boom-1"
    assert "hunter2" not in response.text and "Traceback" not in response.text


def test_the_openapi_document_is_3_1_with_examples_and_versioned_paths(
    sqlite_client: TestClient,
) -> None:
    schema = sqlite_client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    private = {"/healthz", "/readyz", "/metrics", "/.well-known/jwks.json", "/oauth/token"}
    assert all(path.startswith("/v1/") for path in set(schema["paths"]) - private)
    assert schema["components"]["schemas"]["CustomerCreate"]["examples"]
    assert "Problem" in schema["components"]["schemas"]


def test_readiness_reports_the_database_and_an_unconfigured_bus(sqlite_client: TestClient) -> None:
    assert sqlite_client.get("/healthz").json() == {"status": "ok", "checks": {}}
    ready = sqlite_client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "bus": "not configured"}


def test_readiness_fails_with_503_when_the_configured_bus_is_unreachable(
    sqlite_engine: Engine,
) -> None:
    from dataclasses import replace

    from twinrail.api.app import create_app
    from twinrail.api.settings import ApiSettings
    from twinrail.settings import Settings

    from .conftest import make_platform

    platform = replace(
        make_platform(sqlite_engine), settings=Settings(bus_url="nats://127.0.0.1:1")
    )
    settings = ApiSettings(readiness_timeout_seconds=0.5)
    with TestClient(create_app(platform, settings), raise_server_exceptions=False) as client:
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"] == {"database": "ok", "bus": "unreachable"}
