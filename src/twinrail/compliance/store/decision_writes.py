"""What one decision reads in one statement, and everything it writes, staged to travel as one
statement with its commit.

Every payment order gets a decision, so its database round trips are paid on every payment.
`load_decision_context` takes the customer's lock and reads the KYC profile, the limit windows,
the customer's recent rule points, whether it has screening hits and which of the upserted rows
exist, as scalar subqueries of
one SELECT sent in the same round trip as the lock (the server runs the SELECT once the lock is
granted, so it sees everything committed before).

A decision stores itself, the approved movement (for the limits), the movement's facts (for the
rules), the live and shadow rule evaluations, the customer's risk score and the travel-rule
record. Written one statement at a time that is six or seven round trips on every payment; staged,
the unit of work sends them with the outbox and audit rows as one statement (see
`platform.bulk`). Upserts need to know which rows exist: the context read asks, under the
customer's lock, so the answer cannot change before the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Select, String, bindparam, case, exists, func, select

from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier
from twinrail.compliance.domain.limits import DAY, THIRTY_DAYS, Movement
from twinrail.compliance.store.kyc_store import StoredDecision, customer_lock
from twinrail.compliance.store.party_store import hits_probe, owner_range
from twinrail.compliance.store.rules_store import (
    Evaluation,
    FactRecord,
    StoredRiskScore,
    fact_row,
)
from twinrail.compliance.store.tables import (
    approved_movements,
    decisions,
    kyc_profiles,
    movement_facts,
    risk_scores,
    rule_evaluations,
    travel_rule_records,
)
from twinrail.platform.bulk import Query, StagedWrite, fetch_in_one_trip
from twinrail.platform.types import UtcDateTime

__all__ = [
    "ExistingRows",
    "DecisionContext",
    "load_decision_context",
    "DecisionWrites",
]


@dataclass(frozen=True, slots=True)
class ExistingRows:
    """Which of the rows a decision upserts are there already."""

    movement: bool  # the order was approved before (a retried order never counts twice)
    fact: bool  # the order was decided before
    risk_score: bool  # the customer has a score


def _existing(order_id: Any, customer_id: Any) -> list[Any]:
    return [
        exists().where(approved_movements.c.order_id == order_id),
        exists().where(movement_facts.c.order_id == order_id),
        exists().where(risk_scores.c.customer_id == customer_id),
    ]


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """What a decision reads about its customer."""

    profile: KycProfile | None
    window_usage: list[Movement]  # the limit windows' history, compressed to two movements
    rule_points: int  # severity points the customer earned since `points_since`
    existing: ExistingRows
    party_hits: bool  # any screening hit on the customer or its owners, ever


def load_decision_context(
    conn: Connection,
    customer_id: str,
    order_id: str,
    now: dt.datetime,
    points_since: dt.datetime,
) -> DecisionContext:
    """Lock the customer (PostgreSQL), then read its profile, limit usage, rule points and
    existing rows: one round trip, since the lock and the read travel together.

    The order under decision never counts for itself (a retried order is decided again).
    """
    owners_from, owners_to = owner_range(customer_id)
    values = {
        "customer_id": customer_id, "order_id": order_id, "day_start": now - DAY,
        "month_start": now - THIRTY_DAYS, "points_since": points_since,
        "owners_from": owners_from, "owners_to": owners_to,
    }  # fmt: skip
    queries: list[Query] = [*customer_lock(conn, customer_id), (_CONTEXT, values)]
    row = fetch_in_one_trip(conn, queries)[-1][0]
    used_day, used_month, rule_points = int(row[0]), int(row[1]), int(row[2])
    profile = None
    if row[6] is not None:
        updated_at = _UTC.process_result_value(row[8], conn.dialect)
        assert updated_at is not None
        profile = KycProfile(customer_id, KycStatus(row[6]), Tier(row[7]), updated_at, row[9])
    return DecisionContext(
        profile,
        # exact for both windows: the last day's total now, the rest of 30 days a day ago
        [Movement(now, used_day), Movement(now - DAY, used_month - used_day)],
        rule_points,
        ExistingRows(bool(row[3]), bool(row[4]), bool(row[5])),
        bool(row[10]),
    )


def _context() -> Select[Any]:
    """The decision's read, with bind parameters (built and compiled once)."""
    m, f, p = approved_movements.c, movement_facts.c, kyc_profiles.c
    customer, order = bindparam("customer_id", type_=String), bindparam("order_id", type_=String)
    # No upper bound: a movement another decision recorded after our clock was read (it held
    # the lock first; or another process's clock runs ahead) is real usage and must count.
    in_window = (
        (m.customer_id == customer) & (m.at > bindparam("month_start", type_=UtcDateTime))
        & (m.order_id != order)
    )  # fmt: skip
    in_day = m.at > bindparam("day_start", type_=UtcDateTime)
    day = select(func.coalesce(func.sum(case((in_day, m.eur_cents), else_=0)), 0))
    month = select(func.coalesce(func.sum(m.eur_cents), 0))
    points = select(func.coalesce(func.sum(f.rule_points), 0)).where(
        (f.customer_id == customer) & (f.order_id != order)
        & (f.at > bindparam("points_since", type_=UtcDateTime))
    )  # fmt: skip

    def profile_field(column: Any) -> Any:
        return select(column).where(p.customer_id == customer).scalar_subquery()

    return select(
        day.where(in_window).scalar_subquery(),
        month.where(in_window).scalar_subquery(),
        points.scalar_subquery(),
        *_existing(order, customer),
        profile_field(p.status), profile_field(p.tier), profile_field(p.updated_at),
        profile_field(p.version),
        hits_probe(customer, bindparam("owners_from", type_=String),
                   bindparam("owners_to", type_=String)),
    )  # fmt: skip


_CONTEXT = _context()
_UTC = UtcDateTime()  # the driver's time (rows of `fetch_in_one_trip` are unprocessed) in UTC


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
        key = "order_id" if self.existing.fact else None  # decided again: update it
        self.writes.append(StagedWrite(movement_facts, [fact_row(f)], key))

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
