"""A real sandbox bank for the whole session: its own QTSP, SQLite database and mTLS server on a
free port; clients are httpx over mutual TLS, and every response is checked against the spec."""

from __future__ import annotations

import datetime as dt
import ssl
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.openbanking.pki_builders import issue_tpp, new_qtsp
from tests.sandbox.spec_validation import validate_exchange
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.openbanking.service.sandbox_qtsp import SandboxQtsp
from twinrail.sandbox.bank.runtime import SandboxBank, build_bank

PSU_IP = "192.0.2.10"


class ShiftableClock:
    """Real time plus an offset that tests move; the bank judges consents and certificates by it."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


@pytest.fixture(scope="session")
def qtsp(tmp_path_factory: pytest.TempPathFactory) -> SandboxQtsp:
    return new_qtsp(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def session_clock() -> ShiftableClock:
    return ShiftableClock()


@pytest.fixture
def bank_clock(session_clock: ShiftableClock) -> Iterator[ShiftableClock]:
    """The bank's clock for one test; put back afterwards."""
    yield session_clock
    session_clock.offset = dt.timedelta()


@pytest.fixture(scope="session")
def sandbox_bank(
    qtsp: SandboxQtsp, tmp_path_factory: pytest.TempPathFactory, session_clock: ShiftableClock
) -> SandboxBank:
    url = f"sqlite:///{tmp_path_factory.mktemp('bank')}/bank.db"
    return build_bank("test", database_url=url, pki_dir=qtsp.directory, clock=session_clock)


@pytest.fixture(scope="session")
def bank_url(sandbox_bank: SandboxBank) -> Iterator[str]:
    server = sandbox_bank.server("127.0.0.1", 0)
    port = server.start_in_thread()
    yield f"https://127.0.0.1:{port}"
    server.stop()


def _validate(response: httpx.Response) -> None:
    validate_exchange(response)


ClientFactory = Callable[..., httpx.Client]


@pytest.fixture(scope="session")
def client_for(bank_url: str, qtsp: SandboxQtsp) -> Iterator[ClientFactory]:
    """httpx clients presenting a given certificate; every response is validated by the spec."""
    clients: list[httpx.Client] = []

    def make(cert: Path | None, key: Path | None, *, validate: bool = True) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
        if cert is not None and key is not None:
            context.load_cert_chain(str(cert), str(key))
        hooks: dict[str, list[Any]] = {"response": [_validate] if validate else []}
        client = httpx.Client(base_url=bank_url, verify=context, timeout=10, event_hooks=hooks)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def ais_client(client_for: ClientFactory, qtsp: SandboxQtsp) -> httpx.Client:
    """A TPP with an AIS (PSP_AI) QWAC."""
    cert = issue_tpp(qtsp, "ais-tpp", (Psd2Role.PSP_AI, Psd2Role.PSP_PI))
    return client_for(cert.cert_path, cert.key_path)


def headers(**extra: str) -> dict[str, str]:
    """Fresh mandatory headers (X-Request-ID) plus `extra`, with Python-friendly names."""
    base = {"X-Request-ID": str(uuid.uuid4())}
    base.update({k.replace("_", "-"): v for k, v in extra.items()})
    return base


@pytest.fixture(scope="session")
def accounts_of(sandbox_bank: SandboxBank) -> Callable[[str], list[Any]]:
    """The seeded accounts of a PSU, read from the bank's own database."""
    from twinrail.sandbox.bank.store.bank_store import BankStore

    def read(psu_id: str) -> list[Any]:
        with sandbox_bank.service.engine.connect() as conn:
            with conn.begin():
                return BankStore(conn).accounts_of(psu_id)

    return read


@pytest.fixture(scope="session")
def pis_client(client_for: ClientFactory, qtsp: SandboxQtsp) -> httpx.Client:
    """A TPP with a payment initiation (PSP_PI) QWAC only."""
    cert = issue_tpp(qtsp, "pis-tpp", (Psd2Role.PSP_PI,))
    return client_for(cert.cert_path, cert.key_path)


@pytest.fixture(scope="session")
def piis_client(client_for: ClientFactory, qtsp: SandboxQtsp) -> httpx.Client:
    """A TPP with a funds confirmation (PSP_IC) QWAC only."""
    cert = issue_tpp(qtsp, "piis-tpp", (Psd2Role.PSP_IC,))
    return client_for(cert.cert_path, cert.key_path)
