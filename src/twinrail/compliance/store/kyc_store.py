"""KYC profiles, approved movements and stored decisions over one connection."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, TextClause, insert, select, text, update

from twinrail.compliance.domain.kyc import KycProfile, KycStatus, Tier
from twinrail.compliance.store.tables import approved_movements, decisions, kyc_profiles

__all__ = ["KycStore", "StoredDecision", "StaleProfile"]


class StaleProfile(Exception):
    """The profile changed since it was read (another writer got there first)."""


@dataclass(frozen=True, slots=True)
class StoredDecision:
    """A decision as recorded: what was decided, why, from which inputs and versions."""

    decision_id: str
    order_id: str
    customer_id: str
    outcome: str
    reasons: tuple[Mapping[str, str], ...]
    inputs: Mapping[str, Any]
    rules_version: str
    limits_version: str
    list_versions: Mapping[str, int]
    decided_at: dt.datetime

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(r["code"] for r in self.reasons)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "outcome": self.outcome,
            "reasons": [dict(r) for r in self.reasons],
            "inputs": dict(self.inputs),
            "rules_version": self.rules_version,
            "limits_version": self.limits_version,
            "list_versions": dict(self.list_versions),
            "decided_at": self.decided_at.isoformat(),
        }


CUSTOMER_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(:key))")


def customer_lock(conn: Connection, customer_id: str) -> list[tuple[TextClause, dict[str, str]]]:
    """The statement (and its values) that takes a customer's decision lock, held to the end of
    the transaction; none on SQLite, whose writers are serialised already."""
    if conn.dialect.name != "postgresql":
        return []
    return [(CUSTOMER_LOCK, {"key": f"compliance-customer:{customer_id}"})]


def _profile(row: Any) -> KycProfile:
    return KycProfile(
        row.customer_id, KycStatus(row.status), Tier(row.tier), row.updated_at, row.version
    )


def _decision(row: Any) -> StoredDecision:
    return StoredDecision(
        row.decision_id,
        row.order_id,
        row.customer_id,
        row.outcome,
        tuple(row.reasons),
        dict(row.inputs),
        row.rules_version,
        row.limits_version,
        dict(row.list_versions),
        row.decided_at,
    )


class KycStore:
    """Reads and writes inside the caller's transaction; never commits."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def lock_customer(self, customer_id: str) -> None:
        """Serialise decisions per customer (PostgreSQL), so two orders cannot both pass a
        rolling limit that only one fits under. SQLite serialises writers already."""
        for statement, values in customer_lock(self.connection, customer_id):
            self.connection.execute(statement, values)

    def profile(self, customer_id: str) -> KycProfile | None:
        row = self.connection.execute(
            select(kyc_profiles).where(kyc_profiles.c.customer_id == customer_id)
        ).first()
        return _profile(row) if row else None

    def save_profile(self, profile: KycProfile) -> None:
        """Insert a new profile (version 1) or update the one read at `version - 1`."""
        values = {
            "status": profile.status.value,
            "tier": int(profile.tier),
            "updated_at": profile.updated_at,
            "version": profile.version,
        }
        if profile.version == 1:
            self.connection.execute(
                insert(kyc_profiles).values(customer_id=profile.customer_id, **values)
            )
            return
        done = self.connection.execute(
            update(kyc_profiles)
            .where(kyc_profiles.c.customer_id == profile.customer_id)
            .where(kyc_profiles.c.version == profile.version - 1)
            .values(**values)
        )
        if done.rowcount != 1:
            raise StaleProfile(profile.customer_id)

    def record_movement(
        self,
        order_id: str,
        customer_id: str,
        asset: str,
        amount: int,
        eur_cents: int,
        at: dt.datetime,
    ) -> None:
        self.connection.execute(
            insert(approved_movements).values(
                order_id=order_id,
                customer_id=customer_id,
                asset=asset,
                amount=amount,
                eur_cents=eur_cents,
                at=at,
            )
        )

    def decision(self, decision_id: str) -> StoredDecision | None:
        row = self.connection.execute(
            select(decisions).where(decisions.c.decision_id == decision_id)
        ).first()
        return _decision(row) if row else None

    def decisions_for_order(self, order_id: str) -> list[StoredDecision]:
        rows = self.connection.execute(
            select(decisions)
            .where(decisions.c.order_id == order_id)
            .order_by(decisions.c.decided_at, decisions.c.decision_id)
        )
        return [_decision(r) for r in rows]
