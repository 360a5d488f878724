"""The rules' history, live and shadow evaluations, risk scores and travel-rule records, over
one connection (inside the caller's transaction; never commits)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from twinrail.compliance.domain.decision import Outcome
from twinrail.compliance.domain.rules import CustomerHistory, Direction, PastMovement
from twinrail.compliance.store.tables import (
    movement_facts,
    risk_scores,
    rule_evaluations,
    travel_rule_records,
)

__all__ = [
    "RulesStore",
    "FactRecord",
    "Evaluation",
    "StoredRiskScore",
    "ShadowComparison",
    "fact_row",
]


@dataclass(frozen=True, slots=True)
class FactRecord:
    """One movement as the rules will see it next time."""

    order_id: str
    customer_id: str
    direction: Direction
    order_type: str
    outcome: Outcome
    eur_cents: int
    beneficiary: str | None
    rule_points: int
    at: dt.datetime


def fact_row(fact: FactRecord) -> dict[str, Any]:
    """The `compliance_movement_facts` row of a fact."""
    return {
        "order_id": fact.order_id, "customer_id": fact.customer_id,
        "direction": fact.direction.value, "order_type": fact.order_type,
        "outcome": fact.outcome.value, "eur_cents": fact.eur_cents,
        "beneficiary": fact.beneficiary, "rule_points": fact.rule_points, "at": fact.at,
    }  # fmt: skip


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What one rule set decided (live) or would have decided (shadow) for a decision."""

    decision_id: str
    mode: str
    order_id: str
    customer_id: str
    rule_set_version: str
    outcome: str
    live_outcome: str
    fired: tuple[str, ...]
    reasons: tuple[Mapping[str, Any], ...]
    risk: Mapping[str, Any]
    decided_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "mode": self.mode,
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "rule_set_version": self.rule_set_version,
            "outcome": self.outcome,
            "live_outcome": self.live_outcome,
            "fired": list(self.fired),
            "reasons": [dict(r) for r in self.reasons],
            "risk": dict(self.risk),
            "decided_at": self.decided_at.isoformat(),
        }


@dataclass(frozen=True, slots=True)
class StoredRiskScore:
    """A customer's latest score and the decision that set it."""

    customer_id: str
    score: int
    band: str
    factors: tuple[Mapping[str, Any], ...]
    rule_set_version: str
    decision_id: str
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ShadowComparison:
    """How a candidate rule set's would-be outcomes compare with the live ones."""

    rule_set_version: str
    total: int
    differing: int
    transitions: Mapping[str, int]  # "allow->review": count

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule_set_version": self.rule_set_version,
            "total": self.total,
            "differing": self.differing,
            "same": self.total - self.differing,
            "transitions": dict(self.transitions),
        }


def _evaluation(row: Any) -> Evaluation:
    return Evaluation(
        row.decision_id, row.mode, row.order_id, row.customer_id, row.rule_set_version,
        row.outcome, row.live_outcome, tuple(row.fired), tuple(row.reasons), dict(row.risk),
        row.decided_at,
    )  # fmt: skip


class RulesStore:
    """Reads and writes the rules' tables inside the caller's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def _counted(self, customer_id: str, excluding_order: str) -> Any:
        f = movement_facts.c
        return (
            (f.customer_id == customer_id)
            & (f.order_id != excluding_order)
            & (f.outcome != Outcome.BLOCK.value)
        )

    def history(
        self,
        customer_id: str,
        *,
        since: dt.datetime,
        until: dt.datetime,
        beneficiary: str | None,
        excluding_order: str = "",
    ) -> CustomerHistory:
        """Movements in (since, until], the last activity at or before `until`, and whether
        `beneficiary` was paid before (blocked movements never count)."""
        f = movement_facts.c
        where = self._counted(customer_id, excluding_order) & (f.at <= until)
        rows = self.connection.execute(
            select(f.at, f.eur_cents, f.direction, f.order_type, f.outcome, f.beneficiary)
            .where(where & (f.at > since))
            .order_by(f.at)
        )
        movements = tuple(
            PastMovement(r.at, int(r.eur_cents), Direction(r.direction), r.order_type,
                         Outcome(r.outcome), r.beneficiary)
            for r in rows
        )  # fmt: skip
        last = self.connection.execute(select(func.max(f.at)).where(where)).scalar_one_or_none()
        known = False
        if beneficiary is not None:
            known = (
                self.connection.execute(
                    select(f.order_id).where(where & (f.beneficiary == beneficiary)).limit(1)
                ).first()
                is not None
            )
        return CustomerHistory(movements, last, known)

    def rule_points_since(
        self, customer_id: str, since: dt.datetime, *, excluding_order: str = ""
    ) -> int:
        """The severity points the customer's movements earned since `since` (blocked too)."""
        f = movement_facts.c
        total = self.connection.execute(
            select(func.coalesce(func.sum(f.rule_points), 0))
            .where(f.customer_id == customer_id)
            .where(f.order_id != excluding_order)
            .where(f.at > since)
        ).scalar_one()
        return int(total)

    def has_fact(self, order_id: str) -> bool:
        found = self.connection.execute(
            select(movement_facts.c.order_id).where(movement_facts.c.order_id == order_id)
        ).first()
        return found is not None

    def fact(self, order_id: str) -> FactRecord | None:
        """The recorded movement of `order_id` (an order or an inflow reference), if any."""
        row = self.connection.execute(
            select(movement_facts).where(movement_facts.c.order_id == order_id)
        ).first()
        if row is None:
            return None
        return FactRecord(
            row.order_id, row.customer_id, Direction(row.direction), row.order_type,
            Outcome(row.outcome), int(row.eur_cents), row.beneficiary, row.rule_points, row.at,
        )  # fmt: skip

    def record_fact(self, fact: FactRecord) -> None:
        """Insert the movement, or update it when the order is decided again."""
        values = fact_row(fact)
        del values["order_id"]
        done = self.connection.execute(
            update(movement_facts)
            .where(movement_facts.c.order_id == fact.order_id)
            .values(**values)
        )
        if done.rowcount == 0:
            self.connection.execute(insert(movement_facts).values(order_id=fact.order_id, **values))

    def evaluations(self, decision_id: str) -> list[Evaluation]:
        """The live evaluation of a decision and any shadow ones, live first."""
        rows = self.connection.execute(
            select(rule_evaluations)
            .where(rule_evaluations.c.decision_id == decision_id)
            .order_by(rule_evaluations.c.mode)
        )
        return [_evaluation(r) for r in rows]

    def shadow_comparisons(self, rule_set_version: str | None = None) -> list[ShadowComparison]:
        """Per shadow rule-set version: how many decisions it saw and how many it would change."""
        e = rule_evaluations.c
        query = (
            select(e.rule_set_version, e.live_outcome, e.outcome, func.count().label("n"))
            .where(e.mode == "shadow")
            .group_by(e.rule_set_version, e.live_outcome, e.outcome)
            .order_by(e.rule_set_version)
        )
        if rule_set_version is not None:
            query = query.where(e.rule_set_version == rule_set_version)
        by_version: dict[str, dict[str, int]] = {}
        for r in self.connection.execute(query):
            by_version.setdefault(r.rule_set_version, {})[f"{r.live_outcome}->{r.outcome}"] = r.n
        return [
            ShadowComparison(
                version, sum(t.values()),
                sum(n for k, n in t.items() if k.split("->")[0] != k.split("->")[1]),
                dict(sorted(t.items())),
            )
            for version, t in by_version.items()
        ]  # fmt: skip

    def shadow_differences(self, rule_set_version: str, limit: int = 50) -> list[Evaluation]:
        """The latest shadow evaluations of a version whose outcome differs from the live one."""
        e = rule_evaluations.c
        rows = self.connection.execute(
            select(rule_evaluations)
            .where(e.mode == "shadow", e.rule_set_version == rule_set_version)
            .where(e.outcome != e.live_outcome)
            .order_by(e.decided_at.desc(), e.decision_id)
            .limit(limit)
        )
        return [_evaluation(r) for r in rows]

    def risk_score(self, customer_id: str) -> StoredRiskScore | None:
        row = self.connection.execute(
            select(risk_scores).where(risk_scores.c.customer_id == customer_id)
        ).first()
        if row is None:
            return None
        return StoredRiskScore(
            row.customer_id, row.score, row.band, tuple(row.factors), row.rule_set_version,
            row.decision_id, row.updated_at,
        )  # fmt: skip

    def travel_rule_for_order(self, order_id: str) -> list[dict[str, Any]]:
        """Every travel-rule record of an order, oldest first."""
        t = travel_rule_records.c
        rows = self.connection.execute(
            select(travel_rule_records)
            .where(t.order_id == order_id)
            .order_by(t.recorded_at, t.decision_id)
        )
        return [
            {"decision_id": r.decision_id, "status": r.status, **dict(r.record),
             "recorded_at": r.recorded_at.isoformat()}
            for r in rows
        ]  # fmt: skip
