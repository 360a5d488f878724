"""Idempotency-Key on every POST: replay, body mismatch, concurrency, expiry after 24 hours."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from twinrail.api.deps import CurrentPrincipal, needs
from twinrail.api.domain.roles import Permission, Role
from twinrail.api.idempotent_route import IdempotentRoute
from twinrail.api.service.idempotency import IdempotencyService, StoredResponse
from twinrail.api.store.tables import customers

from .conftest import LiveServer, caller_for_services, new_caller

BODY = {"kind": "individual", "name": "Ada Lovelace", "country": "GB"}


def _count_customers(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(customers)) or 0)


def test_the_same_key_and_body_replays_the_stored_response(client: TestClient) -> None:
    caller = new_caller(client, Role.CLIENT)
    headers = {**caller.headers, "Idempotency-Key": "replay-1"}
    first = client.post("/v1/customers", json=BODY, headers=headers)
    second = client.post(
        "/v1/customers", json=dict(reversed(list(BODY.items()))), headers=headers
    )  # same JSON, other key order
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _count_customers(client.app.state.services.platform.engine) == 1  # type: ignore[attr-defined]


def test_the_same_key_with_another_body_is_a_422_problem(client: TestClient) -> None:
    caller = new_caller(client, Role.CLIENT)
    headers = {**caller.headers, "Idempotency-Key": "mismatch-1"}
    assert client.post("/v1/customers", json=BODY, headers=headers).status_code == 201
    other = client.post("/v1/customers", json={**BODY, "name": "Someone Else"}, headers=headers)
    assert other.status_code == 422
    assert other.json()["code"] == "api.idempotency_key_reused"


def test_keys_belong_to_one_client_so_two_clients_may_use_the_same_key(
    client: TestClient,
) -> None:
    alice, bob = new_caller(client, Role.CLIENT), new_caller(client, Role.CLIENT)
    for caller in (alice, bob):
        response = client.post(
            "/v1/customers", json=BODY, headers={**caller.headers, "Idempotency-Key": "shared"}
        )
        assert response.status_code == 201
        assert "Idempotent-Replayed" not in response.headers


def test_a_post_without_a_key_is_refused(sqlite_client: TestClient) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    response = sqlite_client.post("/v1/customers", json=BODY, headers=caller.headers)
    assert response.status_code == 400
    assert response.json()["code"] == "api.idempotency_key_missing"


def test_a_rejection_is_replayed_too_but_a_fault_frees_the_key(sqlite_client: TestClient) -> None:
    caller = new_caller(sqlite_client, Role.CLIENT)
    headers = {**caller.headers, "Idempotency-Key": "rejected-1"}
    body = {"customer_id": "cus_unknown", "asset": "EUR"}
    first = sqlite_client.post("/v1/accounts", json=body, headers=headers)
    again = sqlite_client.post("/v1/accounts", json=body, headers=headers)
    assert first.status_code == again.status_code == 404
    assert again.headers["Idempotent-Replayed"] == "true"


def test_a_key_is_forgotten_after_24_hours_and_a_stale_claim_after_its_lease(
    engine: Engine,
) -> None:
    now = [dt.datetime(2026, 1, 1, tzinfo=dt.UTC)]
    service = IdempotencyService(engine, clock=lambda: now[0])
    assert service.claim("cli_a", "k", "h1") is None
    now[0] += dt.timedelta(seconds=61)  # the first request died: its lease ran out
    assert service.claim("cli_a", "k", "h1") is None
    service.complete("cli_a", "k", StoredResponse(201, b"{}", "application/json"))
    assert service.claim("cli_a", "k", "h1") == StoredResponse(201, b"{}", "application/json")
    now[0] += dt.timedelta(hours=24)
    assert service.claim("cli_a", "k", "h2") is None  # expired: a new request may use it
    now[0] += dt.timedelta(hours=25)
    assert service.purge_expired() == 1


def _slow_route(app: FastAPI, started: threading.Event) -> None:
    slow = APIRouter(route_class=IdempotentRoute)

    @slow.post("/v1/test-slow", status_code=201, **needs(Permission.CUSTOMERS_WRITE))
    def slow_operation(principal: CurrentPrincipal) -> dict[str, str]:
        started.set()
        time.sleep(0.6)
        return {"done_by": principal.client_id, "nonce": uuid.uuid4().hex}

    app.include_router(slow)


def test_the_same_key_arriving_while_the_first_runs_gets_409_on_a_real_server(
    app: FastAPI,
) -> None:
    started = threading.Event()
    _slow_route(app, started)
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        caller = caller_for_services(http, app.state.services, Role.CLIENT)
        headers = {**caller.headers, "Idempotency-Key": "concurrent-1"}
        results: dict[str, httpx.Response] = {}

        def first() -> None:
            results["first"] = http.post("/v1/test-slow", json={}, headers=headers)

        thread = threading.Thread(target=first)
        thread.start()
        assert started.wait(5)
        second = http.post("/v1/test-slow", json={}, headers=headers)
        thread.join()
        assert results["first"].status_code == 201
        assert second.status_code == 409
        assert second.json()["code"] == "api.idempotency_key_in_flight"
        third = http.post("/v1/test-slow", json={}, headers=headers)
        assert third.status_code == 201 and third.json() == results["first"].json()


def test_a_burst_of_identical_requests_creates_exactly_one_customer(app: FastAPI) -> None:
    with LiveServer(app) as server, httpx.Client(base_url=server.url, timeout=10) as http:
        caller = caller_for_services(http, app.state.services, Role.CLIENT)
        headers = {**caller.headers, "Idempotency-Key": "burst-1"}
        barrier = threading.Barrier(6)
        statuses: list[int] = []
        bodies: list[dict[str, object]] = []

        def send() -> None:
            with httpx.Client(base_url=server.url, timeout=10) as own:
                barrier.wait()
                response = own.post("/v1/customers", json=BODY, headers=headers)
            statuses.append(response.status_code)
            if response.status_code == 201:
                bodies.append(response.json())

        threads = [threading.Thread(target=send) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert all(body == bodies[0] for body in bodies)
    assert _count_customers(app.state.services.platform.engine) == 1
