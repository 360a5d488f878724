"""One access log line per request: request id, tenant, route template; never secrets or bodies."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from twinrail.api.domain.roles import Role

from .conftest import new_caller


def test_each_request_logs_its_id_client_route_and_status_but_no_body_or_token(
    sqlite_client: TestClient,
) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    with capture_logs() as logs:
        response = sqlite_client.post(
            "/v1/customers",
            json={"kind": "individual", "name": "Private Person", "email": "pp@example.com"},
            headers={**caller.headers, "Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": "r-1"},
        )
    assert response.status_code == 201
    access = [entry for entry in logs if entry["event"] == "http.request"]
    assert access == [
        {
            "event": "http.request",
            "log_level": "info",
            "request_id": "r-1",
            "method": "POST",
            "route": "/v1/customers",
            "status": 201,
            "duration_ms": access[0]["duration_ms"],
            "client_id": caller.client_id,
        }
    ]
    text = repr(logs)
    assert "Private Person" not in text and caller.token not in text


def test_metrics_expose_latency_by_route_and_orders_by_state(sqlite_client: TestClient) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    sqlite_client.get("/v1/customers", headers=caller.headers)
    body = sqlite_client.get("/metrics").text
    assert (
        'twinrail_http_request_duration_seconds_count{method="GET",route="/v1/customers",'
        'status="200"} 1.0' in body
    )
    assert "# TYPE twinrail_payment_orders gauge" in body
