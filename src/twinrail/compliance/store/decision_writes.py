"""Everything one decision writes, staged to travel as one statement with its commit.

A decision stores itself, the approved movement (for the limits), the movement's facts (for the
rules), the live and shadow rule evaluations, the customer's risk score and the travel-rule
record. Written one statement at a time that is six or seven round trips on every payment; staged,
the unit of work sends them with the outbox and audit rows as one statement (see
`platform.bulk`). Upserts need to know which rows exist: `existing_rows` asks once, under the
customer's lock, so the answer cannot change before the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exists, select

from twinrail.compliance.store.kyc_store import StoredDecision
from twinrail.compliance.store.rules_store import Evaluation, FactRecord, StoredRiskScore
from twinrail.compliance.store.tables import (
    approved_movements,
    decisions,
    movement_facts,
    risk_scores,
    rule_evaluations,
    travel_rule_records,
)
from twinrail.platform.bulk import StagedWrite

__all__ = ["ExistingRows", "existing_rows", "DecisionWrites"]


@dataclass(frozen=True, slots=True)
class ExistingRows:
    """Which of the rows a decision upserts are there already."""

    movement: bool  # the order was approved before (a retried order never counts twice)
    fact: bool  # the order was decided before
    risk_score: bool  # the customer has a score


def existing_rows(conn: Connection, order_id: str, customer_id: str) -> ExistingRows:
    """One round trip for the three existence checks."""
    row = conn.execute(
        select(
            exists().where(approved_movements.c.order_id == order_id),
            exists().where(movement_facts.c.order_id == order_id),
            exists().where(risk_scores.c.customer_id == customer_id),
        )
    ).one()
    return ExistingRows(bool(row[0]), bool(row[1]), bool(row[2]))


class DecisionWrites:
    """Collects a decision's rows as staged writes, in the order they must be applied."""

    def __init__(self, existing: ExistingRows) -> None:
        self.existing = existing
        self.writes: list[StagedWrite] = []

    def decision(self, d: StoredDecision) -> None:
        self.writes.append(
            StagedWrite(decisions, [{
                "decision_id": d.decision_id, "order_id": d.order_id,
                "customer_id": d.customer_id, "outcome": d.outcome,
                "reasons": [dict(r) for r in d.reasons], "inputs": dict(d.inputs),
                "rules_version": d.rules_version, "limits_version": d.limits_version,
                "list_versions": dict(d.list_versions), "decided_at": d.decided_at,
            }])
        )  # fmt: skip

    def approved_movement(
        self, order_id: str, customer_id: str, asset: str, amount: int, eur_cents: int,
        at: dt.datetime,
    ) -> None:  # fmt: skip
        if self.existing.movement:
            return
        self.writes.append(
            StagedWrite(approved_movements, [{
                "order_id": order_id, "customer_id": customer_id, "asset": asset,
                "amount": amount, "eur_cents": eur_cents, "at": at,
            }])
        )  # fmt: skip

    def fact(self, f: FactRecord) -> None:
        row = {
            "order_id": f.order_id, "customer_id": f.customer_id,
            "direction": f.direction.value, "order_type": f.order_type,
            "outcome": f.outcome.value, "eur_cents": f.eur_cents, "beneficiary": f.beneficiary,
            "rule_points": f.rule_points, "at": f.at,
        }  # fmt: skip
        key = "order_id" if self.existing.fact else None  # decided again: update it
        self.writes.append(StagedWrite(movement_facts, [row], key))

    def evaluations(self, evaluations: list[Evaluation]) -> None:
        rows = [
            {
                "decision_id": e.decision_id,
                "mode": e.mode,
                "order_id": e.order_id,
                "customer_id": e.customer_id,
                "rule_set_version": e.rule_set_version,
                "outcome": e.outcome,
                "live_outcome": e.live_outcome,
                "fired": list(e.fired),
                "reasons": [dict(r) for r in e.reasons],
                "risk": dict(e.risk),
                "decided_at": e.decided_at,
            }  # fmt: skip
            for e in evaluations
        ]
        if rows:
            self.writes.append(StagedWrite(rule_evaluations, rows))

    def risk_score(self, s: StoredRiskScore) -> None:
        row = {
            "customer_id": s.customer_id, "score": s.score, "band": s.band,
            "factors": [dict(f) for f in s.factors], "rule_set_version": s.rule_set_version,
            "decision_id": s.decision_id, "updated_at": s.updated_at,
        }  # fmt: skip
        key = "customer_id" if self.existing.risk_score else None
        self.writes.append(StagedWrite(risk_scores, [row], key))

    def travel_rule(
        self, decision_id: str, order_id: str, customer_id: str, record: Mapping[str, Any],
        at: dt.datetime,
    ) -> None:  # fmt: skip
        status = "complete" if record.get("complete") else "incomplete"
        self.writes.append(
            StagedWrite(travel_rule_records, [{
                "decision_id": decision_id, "order_id": order_id, "customer_id": customer_id,
                "status": status, "record": dict(record), "recorded_at": at,
            }])
        )  # fmt: skip
