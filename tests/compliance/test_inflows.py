"""Crypto deposit events as inflows for the rules: recorded once per event and per deposit,
taken back on a reversal in either order, skipped (with an id-only log line) when no customer
owns the account or the asset has no EUR price. Messages are built from the crypto context's
own events, as the outbox writes them; the decision service then reads the facts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from structlog.testing import capture_logs

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.prices import eur_cents_of
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.inflows import (
    DEPOSIT_INFLOWS_CONSUMER,
    DepositInflows,
    deposit_reference,
)
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.compliance.store.rules_store import FactRecord, RulesStore
from twinrail.crypto.domain.deposits import (
    Deposit,
    DepositCredited,
    DepositReversed,
    DepositStatus,
)
from twinrail.platform.outbox import OutboxMessage, message_from_event, processed_events

USDC = 10**6
ADDRESS = "0x1111111111111111111111111111111111111111"
SENDER = "0x2222222222222222222222222222222222222222"


class Owners(dict[str, str]):
    """The port's fake: ledger account id → customer id."""

    def customer_of(self, ledger_account_id: str) -> str | None:
        return self.get(ledger_account_id)


def prices() -> FixedPriceTable:
    s = ComplianceSettings()
    return FixedPriceTable(s.prices_eur, s.asset_decimals)


def deposit(amount: int = 5_000 * USDC, asset: str = "USDC", incarnation: int = 0) -> Deposit:
    return Deposit(
        chain_id=31337, tx_hash="0x" + uuid.uuid4().hex * 2, log_index=3, block_number=7,
        block_hash="0x" + "ab" * 32, address=ADDRESS, owner_ref="owner-1", asset=asset,
        token=None, sender=SENDER, amount=amount, status=DepositStatus.CREDITED,
        incarnation=incarnation, seen_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )  # fmt: skip


def credited(d: Deposit, at: dt.datetime, account: str = "la_alice") -> OutboxMessage:
    return message_from_event(DepositCredited(d, d.credit_id, account), at, None)


def reversed_(d: Deposit, at: dt.datetime, account: str = "la_alice") -> OutboxMessage:
    return message_from_event(DepositReversed(d, d.reversal_id, 4, account), at, None)


def ref(d: Deposit) -> str:
    return deposit_reference(d.chain_id, d.tx_hash, d.log_index, d.incarnation)


def fact(engine: Engine, reference: str) -> FactRecord | None:
    with engine.connect() as conn:
        return RulesStore(conn).fact(reference)


def audits(engine: Engine, action: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(audit_entries.c.action == action)
        ).scalar_one()


@pytest.fixture
def inflows(engine: Engine, clock: ManualClock) -> DepositInflows:
    return DepositInflows(engine, Owners(la_alice="cus_alice"), prices(), clock=clock)


def test_a_credited_deposit_is_one_inflow_fact_and_redelivery_changes_nothing(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    d = deposit()
    message = credited(d, clock())
    assert inflows.handle(message) is True
    recorded = fact(engine, ref(d))
    usdc = prices().price("USDC")
    assert usdc is not None and recorded is not None
    assert (recorded.customer_id, recorded.direction.value, recorded.order_type) == (
        "cus_alice", "in", "inflow",
    )  # fmt: skip
    assert (recorded.eur_cents, recorded.at) == (eur_cents_of(5_000 * USDC, usdc), clock())
    assert recorded.eur_cents == 4_600_00

    clock.advance(hours=1)
    assert inflows.handle(message) is False  # the same event again
    assert inflows.handle(credited(d, clock())) is True  # another event, the same deposit
    assert fact(engine, ref(d)) == recorded
    assert audits(engine, "compliance.inflow") == 1


def test_a_new_incarnation_of_a_deposit_is_a_new_inflow(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    first = deposit()
    again = dataclasses.replace(first, incarnation=1)  # back after a reorg dropped it
    assert ref(first) != ref(again)
    inflows.handle(credited(first, clock()))
    inflows.handle(credited(again, clock()))
    assert fact(engine, ref(first)) is not None and fact(engine, ref(again)) is not None


def test_a_reversed_deposit_stops_counting_and_keeps_its_time(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    d = deposit()
    credited_at = clock()
    inflows.handle(credited(d, credited_at))
    clock.advance(hours=1)
    assert inflows.handle(reversed_(d, clock())) is True
    recorded = fact(engine, ref(d))
    assert recorded is not None
    assert (recorded.order_type, recorded.eur_cents, recorded.at) == (
        "inflow_reversed", 0, credited_at,
    )  # fmt: skip
    assert inflows.handle(reversed_(d, clock())) is True  # a second event: nothing more
    assert audits(engine, "compliance.inflow_reversed") == 1


def test_a_reversal_delivered_before_its_credit_keeps_the_late_credit_out(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    d = deposit()
    inflows.handle(reversed_(d, clock()))
    inflows.handle(credited(d, clock()))
    recorded = fact(engine, ref(d))
    assert recorded is not None and (recorded.order_type, recorded.eur_cents) == (
        "inflow_reversed", 0,
    )  # fmt: skip
    assert audits(engine, "compliance.inflow") == 0


def test_a_deposit_to_an_account_of_no_customer_is_skipped_with_an_id_only_log_line(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    d = deposit()
    message = credited(d, clock(), account="house-USDC")
    with capture_logs() as logs:
        assert inflows.handle(message) is True
    assert fact(engine, ref(d)) is None
    [line] = [entry for entry in logs if entry["event"] == "compliance.deposit_inflow_skipped"]
    assert (line["reason"], line["event_id"], line["ledger_account_id"]) == (
        "account_of_no_customer", message.event_id, "house-USDC",
    )  # fmt: skip
    values = " ".join(str(v) for v in line.values()).lower()
    assert ADDRESS.lower() not in values and SENDER.lower() not in values
    assert d.tx_hash not in values and str(d.amount) not in values
    with engine.connect() as conn:  # claimed: a redelivery is not even looked at
        claimed = conn.execute(
            select(processed_events.c.event_id).where(
                processed_events.c.consumer == DEPOSIT_INFLOWS_CONSUMER
            )
        ).scalars()
        assert list(claimed) == [message.event_id]
    assert inflows.handle(message) is False


def test_a_deposit_in_an_asset_without_a_eur_price_is_skipped(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    d = deposit(asset="DOGE")
    with capture_logs() as logs:
        inflows.handle(credited(d, clock()))
    assert fact(engine, ref(d)) is None
    assert [e["reason"] for e in logs] == ["asset_without_eur_price"]


def test_other_crypto_events_are_neither_applied_nor_claimed(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    message = OutboxMessage(
        str(uuid.uuid4()), "crypto.withdrawal_confirmed", "s", 1, {"amount": "1"}, clock()
    )
    assert inflows.handle(message) is False
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(processed_events)).scalar_one() == 0


def test_rapid_in_and_out_fires_on_a_recorded_deposit_and_not_once_it_is_reversed(
    engine: Engine, inflows: DepositInflows, clock: ManualClock
) -> None:
    KycService(engine, clock=clock).set_profile(SetKycProfile("cus_alice", "verified", 1))
    decisions = DecisionService(
        engine, ScreeningService(engine, clock=clock), prices(), clock=clock
    )
    d = deposit(5_000 * USDC)  # EUR 4,600
    inflows.handle(credited(d, clock()))
    clock.advance(hours=3)

    def pay(eur_cents: int) -> DecideMovement:
        order = f"po_{uuid.uuid4().hex}"
        return DecideMovement(order, "cus_alice", "bank_payment", "EUR", eur_cents)

    recorded = decisions.decide(pay(4_000_00))  # 87 % of it leaves 3 hours later
    held = recorded.decision
    assert held.outcome is Outcome.REVIEW and held.codes == ("rule.rapid_in_out.48h",)
    stored = decisions.decision(recorded.decision_id)
    assert stored is not None
    reason: dict[str, Any] = dict(stored.reasons[0])
    assert reason["facts"]["inflow_eur"] == "4600.00"
    inflows.handle(reversed_(d, clock()))
    assert decisions.decide(pay(4_000_00)).decision.outcome is Outcome.ALLOW


deliveries = st.lists(st.sampled_from(["credit", "reversal"]), min_size=1, max_size=6)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=deliveries)
def test_any_order_and_repetition_of_deliveries_ends_in_the_same_fact(
    sqlite_engine: Engine, order: list[str]
) -> None:
    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    inflows = DepositInflows(sqlite_engine, Owners(la_alice="cus_alice"), prices())
    d = deposit(1_234 * USDC)
    for kind in order:
        inflows.handle(credited(d, at) if kind == "credit" else reversed_(d, at))
    recorded = fact(sqlite_engine, ref(d))
    assert recorded is not None
    if "reversal" in order:
        assert (recorded.order_type, recorded.eur_cents) == ("inflow_reversed", 0)
    else:
        assert (recorded.order_type, recorded.eur_cents) == ("inflow", 1_135_28)
    assert recorded.at == at
