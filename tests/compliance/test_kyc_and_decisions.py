"""KYC profiles and stored decisions on a real database: limits, screening, audit, outbox."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.decision import Counterparty, Outcome
from twinrail.compliance.domain.errors import InvalidKycProfile
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.kyc_service import KycService, SetKycProfile
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.platform.db import create_db_engine
from twinrail.platform.outbox import outbox

SANCTIONED_WALLET = "0x8589427373d6d84e98730d7795d8f6f8731fda16"
SANCTIONED_IBAN = "DE89 3704 0044 0532 0130 00"


def prices() -> FixedPriceTable:
    settings = ComplianceSettings()
    return FixedPriceTable(settings.prices_eur, settings.asset_decimals)


@pytest.fixture
def kyc(engine: Engine, clock: ManualClock) -> KycService:
    return KycService(engine, clock=clock, actor="analyst-1")


@pytest.fixture
def decisions(engine: Engine, service: ScreeningService, clock: ManualClock) -> DecisionService:
    return DecisionService(engine, service, prices(), clock=clock)


def order(customer: str, amount: int, asset: str = "EUR", **counterparty: str) -> DecideMovement:
    return DecideMovement(
        order_id=f"po_{uuid.uuid4().hex}", customer_id=customer, order_type="bank_payment",
        asset=asset, amount=amount, client_id="cli_1",
        counterparty=Counterparty(**counterparty) if counterparty else None,
    )  # fmt: skip


def customer() -> str:
    return f"cus_{uuid.uuid4().hex[:12]}"


def test_setting_a_profile_is_versioned_audited_and_published(
    engine: Engine, kyc: KycService
) -> None:
    cus = customer()
    assert kyc.profile(cus).status.value == "unverified" and kyc.profile(cus).tier == 0
    kyc.set_profile(SetKycProfile(cus, "pending", 1, reason="documents received"))
    profile = kyc.set_profile(SetKycProfile(cus, "verified", 1))
    assert (profile.status.value, int(profile.tier), profile.version) == ("verified", 1, 2)
    assert kyc.profile(cus) == profile
    with engine.connect() as conn:
        audits = conn.execute(
            select(audit_entries).where(audit_entries.c.subject == f"customer:{cus}")
        ).all()
        events = conn.execute(select(outbox.c.topic, outbox.c.stream_version)).all()
    assert [a.action for a in audits] == ["compliance.kyc.set"] * 2
    assert audits[0].actor == "analyst-1" and audits[0].details["reason"] == "documents received"
    assert audits[1].details["previous_status"] == "pending"
    assert ("compliance.kyc_profile_changed", 2) in [tuple(e) for e in events]


def test_an_unknown_status_or_tier_is_refused(kyc: KycService) -> None:
    with pytest.raises(InvalidKycProfile):
        kyc.set_profile(SetKycProfile(customer(), "approved", 1))
    with pytest.raises(InvalidKycProfile):
        kyc.set_profile(SetKycProfile(customer(), "verified", 3))


def test_every_decision_is_stored_with_its_inputs_reasons_and_versions_and_audited(
    engine: Engine, decisions: DecisionService
) -> None:
    cmd = order(customer(), 120_00)
    recorded = decisions.decide(cmd)
    stored = decisions.decisions_for_order(cmd.order_id)
    assert [s.decision_id for s in stored] == [recorded.decision_id]
    why = stored[0]
    assert why.outcome == "allow" and why.codes == ("limits.within",)
    assert (why.rules_version, why.limits_version) == ("decision-v1", "limits-v1")
    assert why.inputs["eur_cents"] == 120_00 and why.inputs["profile"]["status"] == "unverified"
    assert why.inputs["tier_limits"]["per_transaction"] == 150_00
    assert decisions.decision(recorded.decision_id) == why
    with engine.connect() as conn:
        audit = conn.execute(
            select(audit_entries).where(audit_entries.c.subject == f"order:{cmd.order_id}")
        ).one()
    assert audit.action == "compliance.decide" and audit.details["codes"] == ["limits.within"]
    assert audit.details["decision_id"] == recorded.decision_id


def test_unverified_customers_are_limited_to_tier_0_until_verified(
    kyc: KycService, decisions: DecisionService
) -> None:
    cus = customer()
    kyc.set_profile(SetKycProfile(cus, "pending", 2))
    blocked = decisions.decide(order(cus, 500_00)).decision
    assert blocked.outcome is Outcome.BLOCK
    assert "kyc.tier_capped" in blocked.codes and "limits.per_transaction_exceeded" in blocked.codes
    kyc.set_profile(SetKycProfile(cus, "verified", 2))
    assert decisions.decide(order(cus, 500_00)).decision.outcome is Outcome.ALLOW


def test_the_daily_limit_counts_allowed_movements_until_they_are_24_hours_old(
    decisions: DecisionService, clock: ManualClock
) -> None:
    cus = customer()
    assert decisions.decide(order(cus, 150_00)).decision.outcome is Outcome.ALLOW
    clock.advance(hours=1)
    assert decisions.decide(order(cus, 100_00)).decision.outcome is Outcome.ALLOW  # 250.00: at
    blocked = decisions.decide(order(cus, 1)).decision  # blocked ones are not counted
    assert blocked.codes == ("limits.daily_exceeded",)
    clock.advance(hours=23)  # the first is now exactly 24 hours old
    assert decisions.decide(order(cus, 150_00)).decision.outcome is Outcome.ALLOW


def test_every_asset_counts_at_its_eur_value(decisions: DecisionService) -> None:
    cus = customer()
    assert decisions.decide(order(cus, 150 * 10**6, "USDC")).decision.outcome is Outcome.ALLOW
    # 138.00 EUR used; 0.04 ETH = 120.00 EUR would make 258.00 > 250.00
    late = decisions.decide(order(cus, 4 * 10**16, "ETH")).decision
    assert late.codes == ("limits.daily_exceeded",)


def test_a_retried_order_is_not_counted_twice(decisions: DecisionService) -> None:
    cmd = order(customer(), 150_00)
    assert decisions.decide(cmd).decision.outcome is Outcome.ALLOW
    assert decisions.decide(cmd).decision.outcome is Outcome.ALLOW
    assert len(decisions.decisions_for_order(cmd.order_id)) == 2


@pytest.mark.parametrize(
    ("counterparty", "code"),
    [
        ({"wallet": SANCTIONED_WALLET}, "sanctions.counterparty_identifier_hit"),
        (
            {"name": "Acme Trading", "iban": SANCTIONED_IBAN},
            "sanctions.counterparty_identifier_hit",
        ),
        ({"name": "Dmitry Karpov"}, "sanctions.counterparty_name_hit"),
    ],
)
def test_a_sanctioned_counterparty_blocks_the_movement(
    loaded: ScreeningService,
    engine: Engine,
    clock: ManualClock,
    counterparty: dict[str, str],
    code: str,
) -> None:
    decisions = DecisionService(engine, loaded, prices(), clock=clock)
    cmd = order(customer(), 10_00, **counterparty)
    decision = decisions.decide(cmd).decision
    assert decision.outcome is Outcome.BLOCK and code in decision.codes
    assert dict(decision.list_versions)["ofac-sdn"] == 1
    stored = decisions.decisions_for_order(cmd.order_id)[0]
    assert stored.inputs["screening_hits"] and stored.list_versions == dict(decision.list_versions)


def test_a_clean_counterparty_is_allowed(loaded: ScreeningService, engine: Engine) -> None:
    decisions = DecisionService(engine, loaded, prices())
    cmd = order(customer(), 10_00, name="Jane Ordinary", iban="GB82 WEST 1234 5698 7654 32")
    assert decisions.decide(cmd).decision.codes == ("limits.within",)


def test_counterparty_data_that_cannot_be_screened_sends_the_order_to_review(
    decisions: DecisionService,
) -> None:
    decision = decisions.decide(order(customer(), 10_00, name="X", iban="DE00 not an iban"))
    assert decision.decision.outcome is Outcome.REVIEW
    assert decision.decision.codes == ("sanctions.counterparty_invalid",)


@pytest.mark.postgres
def test_concurrent_orders_of_one_customer_never_exceed_the_daily_limit(
    postgres_database: str,
) -> None:
    engine = create_db_engine(postgres_database)
    decisions = DecisionService(engine, ScreeningService(engine), prices())
    cus = customer()
    barrier = threading.Barrier(8)
    outcomes: list[Outcome] = []

    def place() -> None:
        barrier.wait()
        outcomes.append(decisions.decide(order(cus, 100_00)).decision.outcome)

    threads = [threading.Thread(target=place) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert outcomes.count(Outcome.ALLOW) == 2  # 200.00 of 250.00; a third would make 300.00
