"""Fixtures for the HTTP API: an app over a real migrated database, clients in every role."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

import twinrail.api.store.tables  # noqa: F401 - registers the api tables on the metadata
from twinrail.api.app import create_app
from twinrail.api.domain.roles import Role
from twinrail.api.settings import ApiSettings
from twinrail.bootstrap import Platform
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer
from twinrail.ledger.domain.model import Posting, Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.settings import Settings


@dataclass
class Caller:
    """A client credential with a fresh access token, ready to send requests."""

    client_id: str
    client_secret: str
    role: Role
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_platform(engine: Engine) -> Platform:
    ledger = LedgerService(engine)
    ledger.define_asset(DefineAsset("EUR", 2))
    return Platform(Settings(), engine, ledger)


def make_app(engine: Engine, **settings: object) -> FastAPI:
    """The app over `engine`, with limits high enough not to interfere unless a test sets them."""
    merged: dict[str, object] = {"rate_burst": 10_000, "rate_per_second": 10_000.0, **settings}
    return create_app(make_platform(engine), ApiSettings(**merged))  # type: ignore[arg-type]


def new_caller(client: TestClient | httpx.Client, role: Role, name: str = "") -> Caller:
    services = client.app.state.services if isinstance(client, TestClient) else None  # type: ignore[attr-defined]
    assert services is not None, "use caller_for_app with a live server"
    return caller_for_services(client, services, role, name)


def caller_for_services(
    client: TestClient | httpx.Client, services: object, role: Role, name: str = ""
) -> Caller:
    issued = services.credentials.create_client(name or f"{role.value} test", role)  # type: ignore[attr-defined]
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued.client.id,
            "client_secret": issued.client_secret,
        },
    )
    assert response.status_code == 200, response.text
    return Caller(issued.client.id, issued.client_secret, role, response.json()["access_token"])


@pytest.fixture
def app(engine: Engine) -> FastAPI:
    return make_app(engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def sqlite_app(sqlite_engine: Engine) -> FastAPI:
    return make_app(sqlite_engine)


@pytest.fixture
def sqlite_client(sqlite_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(sqlite_app, raise_server_exceptions=False) as test_client:
        yield test_client


def fund(ledger: LedgerService, ledger_account_id: str, amount: int, asset: str = "EUR") -> None:
    """Credit a customer account from a funding account (what a deposit will do later)."""
    funding = f"funding-{asset.lower()}"
    ledger.open_account(OpenAccount(funding, asset, funding, "funding", Side.DEBIT))
    ledger.post_transfer(
        PostTransfer(
            f"fund-{time.time_ns()}",
            (
                Posting(funding, Side.DEBIT, amount, asset),
                Posting(ledger_account_id, Side.CREDIT, amount, asset),
            ),
        )
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn server on a free loopback port, run in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    with LiveServer(app) as server:
        yield server
