"""A profile's gateway faults over real mutual TLS: rate limits with Retry-After per TPP
certificate, latency, configured 5xx answers and dropped connections; never random unless seeded."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from tests.openbanking.pki_builders import issue_tpp
from tests.sandbox.ais_flow import consent_body
from tests.sandbox.conftest import PSU_IP, headers
from tests.sandbox.pis_flow import payment_body
from tests.sandbox.profile_banks import running_bank
from twinrail.openbanking.domain.psd2 import Psd2Role
from twinrail.sandbox.bank.profile import BankProfile, Faults, RateLimit
from twinrail.sandbox.bank.store.tables import consents

ROLES = (Psd2Role.PSP_AI, Psd2Role.PSP_PI)


def codes(response):
    return [m["code"] for m in response.json()["tppMessages"]]


@pytest.fixture(scope="module")
def qwac(qtsp):
    return issue_tpp(qtsp, "fault-qwac", ROLES)


@pytest.fixture
def bank_with(qtsp, bank_clock, tmp_path):
    """Start banks with a given profile for one test."""
    stack = []

    def start(profile: BankProfile):
        context = running_bank(profile, qtsp, tmp_path / profile.name, bank_clock)
        (tmp_path / profile.name).mkdir()
        stack.append(context)
        return context.__enter__()

    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


def probe(client: httpx.Client) -> httpx.Response:
    return client.get("/v1/consents/cns-none", headers=headers())


def test_a_tpp_beyond_the_rate_limit_gets_429_with_retry_after(bank_with, qwac, qtsp, bank_clock):
    profile = BankProfile(name="limited", rate_limit=RateLimit(requests=3, per_seconds=60))
    bank = bank_with(profile)
    client = bank.client(qwac)
    assert [probe(client).status_code for _ in range(3)] == [403, 403, 403]  # CONSENT_UNKNOWN
    limited = probe(client)
    assert (limited.status_code, codes(limited)) == (429, ["ACCESS_EXCEEDED"])
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another TPP certificate has its own allowance.
    other = bank.client(issue_tpp(qtsp, "fault-other-tpp", ROLES))
    assert probe(other).status_code == 403
    # In sandbox time, once the window has passed, the first TPP may call again.
    bank_clock.advance(seconds=61)
    assert probe(client).status_code == 403


def test_a_rate_limited_payment_request_gets_a_bodiless_429_and_nothing_is_stored(
    bank_with, qwac, accounts_of
):
    bank = bank_with(
        BankProfile(name="limited-pis", rate_limit=RateLimit(requests=1, per_seconds=60))
    )
    client = bank.client(qwac)
    probe(client)
    response = client.post(
        "/v1/payments/sepa-credit-transfers",
        json=payment_body(accounts_of("alice")[0].iban),
        headers=headers(PSU_IP_Address=PSU_IP),
    )
    assert response.status_code == 429 and response.content == b""
    assert response.headers["Retry-After"].isdigit()


def count_consents(bank) -> int:
    with bank.bank.service.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(consents)).scalar()


def test_every_third_request_fails_with_a_bodiless_500_before_any_work(bank_with, qwac):
    bank = bank_with(BankProfile(name="fails", faults=Faults(server_error_every=3)))
    client = bank.client(qwac)
    assert [probe(client).status_code for _ in range(2)] == [403, 403]
    before = count_consents(bank)
    failed = client.post(
        "/v1/consents", json=consent_body([]), headers=headers(PSU_IP_Address=PSU_IP)
    )
    assert failed.status_code == 500 and failed.content == b""
    assert failed.headers["X-Request-ID"] == failed.request.headers["X-Request-ID"]
    assert count_consents(bank) == before
    assert [probe(client).status_code for _ in range(3)] == [403, 403, 500]


def test_the_5xx_status_is_configurable(bank_with, qwac):
    faults = Faults(server_error_every=1, server_error_status=503)
    bank = bank_with(BankProfile(name="down", faults=faults))
    assert probe(bank.client(qwac)).status_code == 503


def test_every_second_request_loses_its_connection(bank_with, qwac):
    bank = bank_with(BankProfile(name="drops", faults=Faults(drop_connection_every=2)))
    client = bank.client(qwac)
    assert probe(client).status_code == 403
    with pytest.raises(httpx.RemoteProtocolError):
        probe(client)
    assert probe(client).status_code == 403  # a new connection works again


def outcomes(client: httpx.Client, count: int) -> list[str]:
    seen = []
    for _ in range(count):
        try:
            seen.append(str(probe(client).status_code))
        except httpx.RemoteProtocolError:
            seen.append("dropped")
    return seen


def test_fault_rates_follow_the_profiles_seed_so_runs_repeat_exactly(bank_with, qwac):
    faults = Faults(drop_connection_rate=0.3, server_error_rate=0.3, seed=7)
    first = outcomes(bank_with(BankProfile(name="seeded-a", faults=faults)).client(qwac), 12)
    second = outcomes(bank_with(BankProfile(name="seeded-b", faults=faults)).client(qwac), 12)
    assert first == second
    assert {"403", "500", "dropped"} <= set(first)


def test_no_fault_is_configured_by_default(bank_with, qwac):
    client = bank_with(BankProfile(name="calm")).client(qwac)
    assert set(outcomes(client, 15)) == {"403"}


def test_the_profiles_latency_is_waited_before_each_request(bank_with, qwac):
    bank = bank_with(BankProfile(name="slow", latency_ms=250))
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    bank.bank.asgi.sleep = record
    client = bank.client(qwac)
    probe(client)
    probe(client)
    assert waited == [0.25, 0.25]


def test_a_lost_response_leaves_the_work_done_but_unanswered(bank_with, qwac):
    bank = bank_with(BankProfile(name="loses", faults=Faults(lose_response_every=2)))
    client = bank.client(qwac)
    assert probe(client).status_code == 403
    before = count_consents(bank)
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/v1/consents", json=consent_body([]), headers=headers(PSU_IP_Address=PSU_IP))
    assert count_consents(bank) == before + 1  # stored, though the TPP never heard of it
    assert probe(client).status_code == 403
