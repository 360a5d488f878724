"""End to end on a real anvil: a customer's API account receives a USDC deposit, the chain
watcher credits it, the outbox relay carries `crypto.deposit_credited` over the worker's bus to
compliance, which records the inflow once; money leaving soon after is held by rapid
in-and-out. A reorg that reverses the credit takes the inflow back; a deposit to an account
no API customer owns is skipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from structlog.testing import capture_logs

from tests.conftest import ManualClock
from tests.crypto.conftest import anvil, anvil_binary  # noqa: F401 - fixtures
from tests.crypto.watcher_support import (
    chain_of,
    deploy_token,
    mine,
    mint,
    open_customer_accounts,
    register_deposit_address,
)
from twinrail.api.domain.model import CustomerKind, Principal
from twinrail.api.domain.roles import Role
from twinrail.api.service.credentials import CredentialService
from twinrail.api.service.customers import CreateCustomer, CustomerService, OpenCustomerAccount
from twinrail.audit.store.tables import audit_entries
from twinrail.bootstrap import Platform
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.inflows import deposit_reference
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.compliance.store.rules_store import FactRecord, RulesStore
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.domain.deposits import Deposit, DepositStatus
from twinrail.crypto.service.deposit_books import LedgerChart
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.ledger.domain.commands import DefineAsset
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.bus import InProcessBus
from twinrail.platform.outbox import OutboxMessage, outbox
from twinrail.platform.relay import OutboxRelay
from twinrail.runtime.worker import build_loops
from twinrail.sandbox.anvil import AnvilNode
from twinrail.settings import Settings

USDC = 10**6
RAPID = "rule.rapid_in_out.48h"


@pytest.fixture
def client(anvil: AnvilNode) -> Iterator[Web3ChainClient]:  # noqa: F811 - the fixture
    yield Web3ChainClient(anvil.url, timeout_s=5)


@pytest.fixture
def token(client: Web3ChainClient) -> Token:
    return Token("USDC", deploy_token(client), 6)


@pytest.fixture
def bus(engine: Engine, ledger: LedgerService) -> Iterator[InProcessBus]:
    """The worker's bus, with every subscription `twinrail worker` makes (loops not started)."""
    bus = InProcessBus()
    build_loops(Platform(Settings(), engine, ledger), bus)
    yield bus
    bus.close()


@pytest.fixture
def relay(engine: Engine, bus: InProcessBus) -> Iterator[OutboxRelay]:
    """The outbox relay, run by hand; its lease is released for the next test."""
    relay = OutboxRelay(engine, bus)
    yield relay
    relay.lease.release()


@pytest.fixture
def customer_account(engine: Engine, ledger: LedgerService, clock: ManualClock) -> tuple[str, str]:
    """A verified tier-1 customer with a USDC account opened through the API's service:
    (customer id, the ledger account backing it)."""
    ledger.define_asset(DefineAsset("USDC", 6))
    tenant = CredentialService(engine).create_client("wallet app", Role.CLIENT).client
    principal = Principal(tenant.id, Role.CLIENT, "token:test")
    customers = CustomerService(engine, ledger, clock=clock)
    customer = customers.create_customer(
        principal, CreateCustomer(CustomerKind.INDIVIDUAL, {"name": "Alice Example"})
    )
    account = customers.open_account(principal, OpenCustomerAccount(customer.id, "USDC", {}))
    KycService(engine, clock=clock).set_profile(SetKycProfile(customer.id, "verified", 1))
    return customer.id, account.ledger_account_id


def watcher(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: Token,
    clock: ManualClock,
    confirmations: int = 1,
) -> DepositWatcher:
    chain = chain_of(client.rpc_url, 31337, tokens=(token,), confirmations=confirmations)
    return DepositWatcher(
        engine, ledger, chain, client, account_for=LedgerChart(ledger), start_block=0, clock=clock
    )


def decisions(engine: Engine, clock: ManualClock) -> DecisionService:
    s = ComplianceSettings()
    prices = FixedPriceTable(s.prices_eur, s.asset_decimals)
    return DecisionService(engine, ScreeningService(engine, clock=clock), prices, clock=clock)


def pay(customer: str, eur_cents: int) -> DecideMovement:
    return DecideMovement(f"po_{uuid.uuid4().hex}", customer, "bank_payment", "EUR", eur_cents)


def reference(d: Deposit) -> str:
    return deposit_reference(d.chain_id, d.tx_hash, d.log_index, d.incarnation)


def fact(engine: Engine, ref: str) -> FactRecord | None:
    with engine.connect() as conn:
        return RulesStore(conn).fact(ref)


def inflow_facts(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(audit_entries.c.action == "compliance.inflow")
        ).scalar_one()


def outbox_messages(engine: Engine, topic: str) -> list[OutboxMessage]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox).where(outbox.c.topic == topic)).mappings().all()
    return [
        OutboxMessage(r["event_id"], r["topic"], r["stream_id"], r["stream_version"],
                      dict(r["payload"]), r["occurred_at"])
        for r in rows
    ]  # fmt: skip


def test_a_credited_deposit_is_one_inflow_and_a_quick_exit_is_held_for_rapid_in_and_out(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: Token,
    clock: ManualClock,
    relay: OutboxRelay,
    customer_account: tuple[str, str],
) -> None:
    customer, ledger_account = customer_account
    address = register_deposit_address(engine, ledger_account)
    chain_watcher = watcher(engine, ledger, client, token, clock)
    mint(client, token.address, address, 5_000 * USDC)  # EUR 4,600 at the fixed price
    chain_watcher.run_once()
    [d] = chain_watcher.deposits()
    assert d.status is DepositStatus.CREDITED
    assert ledger.balance(ledger_account).posted == 5_000 * USDC
    [event] = outbox_messages(engine, "crypto.deposit_credited")
    assert event.payload["ledger_account_id"] == ledger_account

    relay.relay_once()
    recorded = fact(engine, reference(d))
    assert recorded is not None
    assert (recorded.customer_id, recorded.order_type, recorded.eur_cents) == (
        customer, "inflow", 4_600_00,
    )  # fmt: skip
    relay.bus.publish([event])  # redelivered: the consumer finds its claim
    relay.relay_once()
    assert fact(engine, reference(d)) == recorded and inflow_facts(engine) == 1

    clock.advance(hours=5)
    engine_decisions = decisions(engine, clock)
    recorded_decision = engine_decisions.decide(pay(customer, 4_000_00))  # 87 %, 5 h later
    held = recorded_decision.decision
    assert held.outcome is Outcome.REVIEW and held.codes == (RAPID,)
    stored = engine_decisions.decision(recorded_decision.decision_id)
    assert stored is not None
    reason: dict[str, Any] = dict(stored.reasons[0])
    assert reason["rule_id"] == "rapid_in_out.48h"
    facts = reason["facts"]
    assert (facts["inflow_eur"], facts["out_eur"], facts["window"]) == (
        "4600.00", "4000.00", "2 days, 0:00:00",
    )  # fmt: skip
    withdrawal = DecideMovement(
        f"po_{uuid.uuid4().hex}", customer, "crypto_withdrawal", "USDC", 4_500 * USDC
    )
    assert RAPID in engine_decisions.decide(withdrawal).decision.codes
    assert engine_decisions.decide(pay(customer, 1_000_00)).decision.outcome is Outcome.ALLOW

    clock.advance(hours=44)  # the deposit leaves the 48-hour window
    assert RAPID not in engine_decisions.decide(pay(customer, 4_000_00)).decision.codes


def test_a_reorg_that_reverses_the_credit_takes_the_inflow_back(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: Token,
    clock: ManualClock,
    relay: OutboxRelay,
    customer_account: tuple[str, str],
) -> None:
    customer, ledger_account = customer_account
    address = register_deposit_address(engine, ledger_account)
    chain_watcher = watcher(engine, ledger, client, token, clock, confirmations=2)
    before = client.request("evm_snapshot", [])
    mint(client, token.address, address, 5_000 * USDC)
    mine(client, 1)
    chain_watcher.run_once()
    relay.relay_once()
    [d] = chain_watcher.deposits()
    assert fact(engine, reference(d)) is not None

    assert client.request("evm_revert", [before]) is True
    mine(client, 4)  # a longer fork without the payment
    chain_watcher.run_once()
    assert chain_watcher.deposits()[0].status is DepositStatus.REVERSED
    [event] = outbox_messages(engine, "crypto.deposit_reversed")
    assert event.payload["ledger_account_id"] == ledger_account
    relay.relay_once()
    recorded = fact(engine, reference(d))
    assert recorded is not None and (recorded.order_type, recorded.eur_cents) == (
        "inflow_reversed", 0,
    )  # fmt: skip
    clock.advance(hours=1)
    paid = decisions(engine, clock).decide(pay(customer, 4_000_00)).decision
    assert paid.outcome is Outcome.ALLOW


def test_a_deposit_to_an_account_no_customer_owns_is_skipped_with_a_log_line(
    engine: Engine,
    ledger: LedgerService,
    client: Web3ChainClient,
    token: Token,
    clock: ManualClock,
    relay: OutboxRelay,
) -> None:
    open_customer_accounts(ledger, ["house"], {"USDC": 6})  # a ledger account, no API customer
    address = register_deposit_address(engine, "house")
    chain_watcher = watcher(engine, ledger, client, token, clock)
    mint(client, token.address, address, 2_000 * USDC)
    chain_watcher.run_once()
    [d] = chain_watcher.deposits()
    assert ledger.balance("house-USDC").posted == 2_000 * USDC
    with capture_logs() as logs:
        relay.relay_once()
    assert fact(engine, reference(d)) is None
    [line] = [e for e in logs if e["event"] == "compliance.deposit_inflow_skipped"]
    assert (line["reason"], line["ledger_account_id"]) == ("account_of_no_customer", "house-USDC")
    assert address.lower() not in " ".join(str(v) for v in line.values()).lower()
