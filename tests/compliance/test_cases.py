"""Review cases on a real database: alerts from the outbox open or join a customer's case;
four eyes on every decision; a final decision tells the pipeline per order; all audited."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from tests.conftest import ManualClock
from twinrail.audit.store.tables import audit_entries
from twinrail.compliance.adapters.fixed_prices import FixedPriceTable
from twinrail.compliance.domain.cases import (
    Alert,
    AlertKind,
    Case,
    CaseStatus,
    Severity,
    Verdict,
    required_approvals,
)
from twinrail.compliance.domain.decision import Counterparty
from twinrail.compliance.domain.errors import FourEyesViolation, InvalidCaseAction, UnknownCase
from twinrail.compliance.service.case_report import case_report, report_markdown
from twinrail.compliance.service.cases_service import CaseService
from twinrail.compliance.service.decision_service import DecideMovement, DecisionService
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.platform.outbox import OutboxMessage, fetch_unpublished, mark_published

SANCTIONED_WALLET = "0x8589427373d6d84e98730d7795d8f6f8731fda16"


@pytest.fixture
def cases(engine: Engine, clock: ManualClock) -> CaseService:
    return CaseService(engine, clock=clock)


@pytest.fixture
def decisions(engine: Engine, loaded: ScreeningService, clock: ManualClock) -> DecisionService:
    settings = ComplianceSettings()
    prices = FixedPriceTable(settings.prices_eur, settings.asset_decimals)
    return DecisionService(engine, loaded, prices, settings=settings, clock=clock)


def drain(engine: Engine, topic: str | None = None) -> list[OutboxMessage]:
    """Every unpublished outbox message (optionally of one topic), marked published."""
    with engine.begin() as conn:
        messages = fetch_unpublished(conn, 10_000)
        if messages:
            positions = [m.position for m in messages if m.position is not None]
            mark_published(conn, positions, messages[0].occurred_at)
    return [m for m in messages if topic is None or m.topic == topic]


def feed(engine: Engine, cases: CaseService) -> int:
    return sum(cases.handle(m) for m in drain(engine))


def decide(decisions: DecisionService, customer: str, amount: int, **counterparty: str) -> str:
    order_id = f"po_{uuid.uuid4().hex}"
    decisions.decide(
        DecideMovement(order_id, customer, "bank_payment", "EUR", amount, client_id="cli_A",
                       counterparty=Counterparty(**counterparty) if counterparty else None)
    )  # fmt: skip
    return order_id


def customer() -> str:
    return f"cus_{uuid.uuid4().hex[:12]}"


def audit_actions(engine: Engine, subject: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_entries.c.action, audit_entries.c.actor)
            .where(audit_entries.c.subject == subject)
            .order_by(audit_entries.c.id)
        )
        return [(r.action, r.actor) for r in rows]


def test_review_and_block_decisions_join_one_open_case_per_customer(
    engine: Engine, cases: CaseService, decisions: DecisionService
) -> None:
    cus = customer()
    drain(engine)
    blocked = decide(decisions, cus, 500_00)  # over tier 0's per-transaction limit: block
    allowed = decide(decisions, cus, 10_00)
    blocked_again = decide(decisions, cus, 600_00, name="Anna Example")
    assert feed(engine, cases) >= 3
    [case] = cases.cases(customer_ids=[cus])
    full = cases.case(case.case_id)
    assert full.status.value == "open"
    assert set(full.order_ids) == {blocked, blocked_again}
    assert allowed not in full.order_ids
    assert all(a.kind is AlertKind.DECISION and a.outcome == "block" for a in full.alerts)
    assert all(a.client_id == "cli_A" for a in full.alerts)


def test_a_redelivered_event_adds_nothing(
    engine: Engine, cases: CaseService, decisions: DecisionService
) -> None:
    cus = customer()
    drain(engine)
    decide(decisions, cus, 500_00)
    messages = drain(engine)
    assert sum(cases.handle(m) for m in messages) == 1
    assert sum(cases.handle(m) for m in messages) == 0
    [case] = cases.cases(customer_ids=[cus])
    assert len(cases.case(case.case_id).alerts) == 1


def test_the_analyst_who_prepared_a_decision_cannot_approve_it(cases: CaseService) -> None:
    cus = customer()
    case_id = cases.raise_alert(cus, _alert("alice", outcome="review", severity=Severity.MEDIUM))
    cases.propose(case_id, "block", ["structuring pattern"], by="bob")
    decision = cases.case(case_id).decisions[0]
    with pytest.raises(FourEyesViolation):
        cases.approve(case_id, decision.decision_id, by="bob")
    with pytest.raises(FourEyesViolation):  # alice raised the alert
        cases.approve(case_id, decision.decision_id, by="alice")
    done = cases.approve(case_id, decision.decision_id, by="carol")
    assert done.status.value == "closed"
    assert done.decisions[0].decided_by == ("bob", "carol")


def test_releasing_a_blocked_high_risk_payment_needs_two_different_approvers(
    engine: Engine, cases: CaseService
) -> None:
    cus = customer()
    drain(engine)
    case_id = cases.raise_alert(cus, _alert("engine", order_id="po_1", outcome="block"))
    cases.propose(case_id, "allow", ["customer explained the source of funds"], by="bob")
    decision = cases.case(case_id).decisions[0]
    assert decision.required == 2
    after_one = cases.approve(case_id, decision.decision_id, by="carol")
    assert after_one.status.value == "open" and after_one.decisions[0].status == "proposed"
    assert drain(engine, "compliance.review_decided") == []
    with pytest.raises(FourEyesViolation):
        cases.approve(case_id, decision.decision_id, by="carol")
    done = cases.approve(case_id, decision.decision_id, by="dave")
    assert done.status.value == "closed"
    [event] = drain(engine, "compliance.review_decided")
    assert event.payload == {
        "order_id": "po_1", "client_id": "cli_A", "verdict": "allow",
        "reasons": ["customer explained the source of funds"],
        "decided_by": ["bob", "carol", "dave"], "case_id": case_id,
        "decision_id": decision.decision_id,
    }  # fmt: skip


def test_keeping_a_payment_blocked_needs_one_approver_and_emits_one_event_per_order(
    engine: Engine, cases: CaseService
) -> None:
    cus = customer()
    drain(engine)
    case_id = cases.raise_alert(cus, _alert("engine", order_id="po_1", outcome="block"))
    assert cases.raise_alert(cus, _alert("engine", order_id="po_2", outcome="review")) == case_id
    cases.propose(case_id, "block", ["sanctioned counterparty confirmed"], by="bob")
    decision = cases.case(case_id).decisions[0]
    assert decision.required == 1
    cases.approve(case_id, decision.decision_id, by="carol")
    events = drain(engine, "compliance.review_decided")
    assert sorted(e.payload["order_id"] for e in events) == ["po_1", "po_2"]
    assert {e.payload["verdict"] for e in events} == {"block"}
    # a closed case is not reused: the next alert opens a new one
    assert cases.raise_alert(cus, _alert("engine", order_id="po_3", outcome="review")) != case_id


def test_every_case_action_is_audited_under_the_analyst(engine: Engine, cases: CaseService) -> None:
    case_id = cases.raise_alert(customer(), _alert("engine", order_id="po_9", outcome="review"))
    cases.assign(case_id, "bob", by="lead")
    cases.comment(case_id, "looks like a salary payment", by="bob")
    cases.attach(case_id, "s3://evidence/payslip.pdf", "a" * 64, "payslip", by="bob")
    cases.propose(case_id, "allow", ["salary"], by="bob")
    decision = cases.case(case_id).decisions[0]
    cases.approve(case_id, decision.decision_id, by="carol")
    assert audit_actions(engine, f"case:{case_id}") == [
        ("compliance.case.open", "engine"),
        ("compliance.case.alert", "engine"),
        ("compliance.case.assign", "lead"),
        ("compliance.case.comment", "bob"),
        ("compliance.case.attach", "bob"),
        ("compliance.case.propose", "bob"),
        ("compliance.case.approve", "carol"),
        ("compliance.case.decide", "carol"),
    ]
    case = cases.case(case_id)
    assert case.assignee == "bob"
    assert [(n.kind, n.uri) for n in case.notes] == [
        ("comment", None), ("attachment", "s3://evidence/payslip.pdf")
    ]  # fmt: skip


def test_bad_case_actions_are_refused(cases: CaseService) -> None:
    with pytest.raises(UnknownCase):
        cases.assign("case_missing", "bob", by="lead")
    case_id = cases.raise_alert(customer(), _alert("engine", outcome="review"))
    with pytest.raises(InvalidCaseAction):
        cases.attach(case_id, "s3://x", "not-a-digest", "", by="bob")
    with pytest.raises(InvalidCaseAction):
        cases.propose(case_id, "maybe", ["?"], by="bob")
    with pytest.raises(InvalidCaseAction):
        cases.propose(case_id, "block", [], by="bob")
    cases.propose(case_id, "block", ["r"], by="bob")
    with pytest.raises(InvalidCaseAction):  # one proposal at a time
        cases.propose(case_id, "allow", ["r"], by="dave")


def test_a_sanctions_block_opens_a_case_whose_report_draft_has_the_facts(
    engine: Engine, cases: CaseService, decisions: DecisionService
) -> None:
    cus = customer()
    drain(engine)
    order_id = decide(decisions, cus, 50_00, name="x", wallet=SANCTIONED_WALLET)
    feed(engine, cases)
    [case] = cases.cases(customer_ids=[cus])
    cases.comment(case.case_id, "wallet on OFAC list", by="bob")
    report = case_report(engine, case.case_id)
    assert report["subject"]["customer_id"] == cus
    assert [t["order_id"] for t in report["transactions"]] == [order_id]
    assert "sanctions.counterparty_identifier_hit" in report["transactions"][0]["reasons"]
    assert report["accounts"]["counterparties"][0]["wallet"]
    assert [e["what"] for e in report["timeline"]][:2] == ["case opened", "alert decision (high)"]
    markdown = report_markdown(report)
    assert order_id in markdown and "wallet on OFAC list" not in markdown
    assert "Bearer" not in markdown and "secret" not in str(report).lower()


def _alert(
    by: str, *, order_id: str | None = None, outcome: str = "block",
    severity: Severity = Severity.HIGH,
) -> Alert:  # fmt: skip
    import datetime as dt

    return Alert(
        AlertKind.DECISION, f"dec_{uuid.uuid4().hex}", severity, {"outcome": outcome}, by,
        dt.datetime(2026, 1, 1, tzinfo=dt.UTC), order_id, "cli_A", outcome,
    )  # fmt: skip


@given(
    outcomes=st.lists(st.sampled_from(["review", "block"]), min_size=1, max_size=5),
    severities=st.lists(st.sampled_from(list(Severity)), min_size=5, max_size=5),
    verdict=st.sampled_from(list(Verdict)),
)
def test_two_approvers_exactly_when_releasing_a_case_with_a_high_risk_block(
    outcomes: list[str], severities: list[Severity], verdict: Verdict
) -> None:
    import datetime as dt

    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    alerts = tuple(
        Alert(AlertKind.DECISION, f"d{i}", severities[i], {}, "engine", now, f"po_{i}", None, o)
        for i, o in enumerate(outcomes)
    )
    case = Case("case_1", "cus", CaseStatus.OPEN, now, now, alerts=alerts)
    high_risk_block = any(
        o == "block" and severities[i] is Severity.HIGH for i, o in enumerate(outcomes)
    )
    expected = 2 if verdict is Verdict.ALLOW and high_risk_block else 1
    assert required_approvals(case, verdict) == expected


def test_a_rule_hit_joins_the_case_as_its_own_alert(
    engine: Engine, cases: CaseService, decisions: DecisionService, clock: ManualClock
) -> None:
    from twinrail.compliance.service.kyc_service import KycService, SetKycProfile

    cus = customer()
    KycService(engine, clock=clock).set_profile(SetKycProfile(cus, "verified", 2))
    drain(engine)
    order_id = decide(decisions, cus, 12_000_00)  # within tier 2, but a large amount: review
    feed(engine, cases)
    [case] = cases.cases(customer_ids=[cus])
    alerts = cases.case(case.case_id).alerts
    kinds = {(a.kind, a.order_id) for a in alerts}
    assert (AlertKind.DECISION, order_id) in kinds and (AlertKind.RULE_HIT, order_id) in kinds
    [rule] = [a for a in alerts if a.kind is AlertKind.RULE_HIT and "amount" in a.ref]
    assert rule.summary["code"] == "rule.amount.large"
