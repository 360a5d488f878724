"""Review cases: alerts gathered per customer, analysts' notes, and four-eyes decisions.

One case is open per customer at a time; alerts (screening hits, review/block decisions, rule
hits) join it. A decision on a case is *prepared* by one analyst and *approved* by others:

- nobody who raised an alert of the case or prepared the decision may approve it;
- releasing (verdict `allow`) a case that holds a high-severity `block` alert needs two
  different approvers; anything else needs one.

The decision becomes final when it has its approvals; the case closes with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from twinrail.compliance.domain.errors import FourEyesViolation, InvalidCaseAction

__all__ = [
    "CaseStatus",
    "AlertKind",
    "Severity",
    "Verdict",
    "Alert",
    "Case",
    "CaseNote",
    "Approval",
    "CaseDecision",
    "required_approvals",
    "prepare_decision",
    "approve_decision",
    "check_case_is_open",
]


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AlertKind(StrEnum):
    SCREENING_HIT = "screening_hit"
    DECISION = "decision"
    RULE_HIT = "rule_hit"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class Verdict(StrEnum):
    """What the case decides for the orders it holds: release them or keep them stopped."""

    ALLOW = "allow"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Alert:
    """One reason a case exists; `ref` de-duplicates it within the case (a decision id, ...)."""

    kind: AlertKind
    ref: str
    severity: Severity
    summary: Mapping[str, Any]
    raised_by: str
    raised_at: dt.datetime
    order_id: str | None = None
    client_id: str | None = None
    outcome: str | None = None  # the engine's outcome for decision alerts

    @property
    def blocks_high_risk(self) -> bool:
        return self.outcome == "block" and self.severity is Severity.HIGH


@dataclass(frozen=True, slots=True)
class CaseNote:
    """A comment, or an attachment kept as a reference (a URI and the SHA-256 of its content)."""

    note_id: int
    kind: str  # "comment" | "attachment"
    author: str
    body: str
    at: dt.datetime
    uri: str | None = None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    by: str
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class CaseDecision:
    """A verdict prepared by one analyst, final once it has `required` approvals."""

    decision_id: str
    case_id: str
    verdict: Verdict
    reasons: tuple[str, ...]
    prepared_by: str
    prepared_at: dt.datetime
    required: int
    approvals: tuple[Approval, ...] = ()
    status: str = "proposed"  # "proposed" | "final"

    @property
    def decided_by(self) -> tuple[str, ...]:
        return (self.prepared_by, *(a.by for a in self.approvals))


@dataclass(frozen=True, slots=True)
class Case:
    """A customer's case: its alerts, who works it, and whether it is still open."""

    case_id: str
    customer_id: str
    status: CaseStatus
    opened_at: dt.datetime
    updated_at: dt.datetime
    assignee: str | None = None
    alerts: tuple[Alert, ...] = ()
    notes: tuple[CaseNote, ...] = ()
    decisions: tuple[CaseDecision, ...] = field(default=())

    @property
    def raisers(self) -> frozenset[str]:
        return frozenset(a.raised_by for a in self.alerts)

    @property
    def order_ids(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for alert in self.alerts:
            if alert.order_id:
                seen.setdefault(alert.order_id)
        return tuple(seen)

    @property
    def pending_decision(self) -> CaseDecision | None:
        return next((d for d in self.decisions if d.status == "proposed"), None)


def check_case_is_open(case: Case) -> None:
    """InvalidCaseAction unless the case is open."""
    if case.status is not CaseStatus.OPEN:
        raise InvalidCaseAction("the case is closed", case_id=case.case_id)


def required_approvals(case: Case, verdict: Verdict) -> int:
    """Two approvers to release a case holding a blocked high-risk payment, else one."""
    if verdict is Verdict.ALLOW and any(a.blocks_high_risk for a in case.alerts):
        return 2
    return 1


def prepare_decision(
    case: Case,
    decision_id: str,
    verdict: Verdict,
    reasons: Sequence[str],
    prepared_by: str,
    at: dt.datetime,
) -> CaseDecision:
    """A proposed decision on an open case that has no other proposal pending."""
    check_case_is_open(case)
    if case.pending_decision is not None:
        raise InvalidCaseAction(
            "a decision is already proposed on this case",
            case_id=case.case_id,
            decision_id=case.pending_decision.decision_id,
        )
    if not reasons or not all(r.strip() for r in reasons):
        raise InvalidCaseAction("a decision needs at least one reason", case_id=case.case_id)
    return CaseDecision(
        decision_id, case.case_id, verdict, tuple(reasons), prepared_by, at,
        required_approvals(case, verdict),
    )  # fmt: skip


def approve_decision(
    case: Case, decision: CaseDecision, approver: str, at: dt.datetime
) -> CaseDecision:
    """The decision with `approver`'s approval added (final when it has enough)."""
    check_case_is_open(case)
    if decision.status != "proposed":
        raise InvalidCaseAction("the decision is not awaiting approval", case_id=case.case_id)
    if approver == decision.prepared_by:
        raise FourEyesViolation(
            "the analyst who prepared a decision may not approve it",
            decision_id=decision.decision_id,
        )
    if approver in case.raisers:
        raise FourEyesViolation(
            "an analyst who raised an alert of the case may not approve its decision",
            decision_id=decision.decision_id,
        )
    if any(a.by == approver for a in decision.approvals):
        raise FourEyesViolation(
            "the same analyst may not approve a decision twice", decision_id=decision.decision_id
        )
    approvals = (*decision.approvals, Approval(approver, at))
    status = "final" if len(approvals) >= decision.required else "proposed"
    return replace(decision, approvals=approvals, status=status)
