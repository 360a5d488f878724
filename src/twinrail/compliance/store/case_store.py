"""Review cases with their alerts, notes and decisions: rows in, domain values out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from twinrail.compliance.domain.cases import (
    Alert,
    AlertKind,
    Approval,
    Case,
    CaseDecision,
    CaseNote,
    CaseStatus,
    Severity,
    Verdict,
)
from twinrail.compliance.store.tables import case_alerts, case_decisions, case_notes, cases

__all__ = ["CaseStore"]


def _alert(row: Any) -> Alert:
    return Alert(
        AlertKind(row.kind), row.ref, Severity(row.severity), dict(row.summary), row.raised_by,
        row.raised_at, row.order_id, row.client_id, row.outcome,
    )  # fmt: skip


def _note(row: Any) -> CaseNote:
    return CaseNote(row.id, row.kind, row.author, row.body, row.at, row.uri, row.sha256)


def _decision(row: Any) -> CaseDecision:
    approvals = tuple(Approval(a["by"], _parse_at(a["at"])) for a in row.approvals)
    return CaseDecision(
        row.decision_id, row.case_id, Verdict(row.verdict), tuple(row.reasons), row.prepared_by,
        row.prepared_at, row.required, approvals, row.status,
    )  # fmt: skip


def _parse_at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


class CaseStore:
    """Case persistence on one connection; never commits (the unit of work does)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def lock_customer_cases(self, customer_id: str) -> None:
        """Serialise opening a case per customer on PostgreSQL (SQLite serialises writers)."""
        if self.connection.dialect.name == "postgresql":
            self.connection.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
                {"key": f"compliance-case:{customer_id}"},
            )

    def open_case_id(self, customer_id: str) -> str | None:
        return self.connection.scalar(
            select(cases.c.case_id).where(cases.c.open_customer == customer_id)
        )

    def add_case(self, case: Case) -> None:
        self.connection.execute(
            insert(cases).values(
                case_id=case.case_id, customer_id=case.customer_id,
                open_customer=case.customer_id, status=case.status.value,
                assignee=case.assignee, opened_at=case.opened_at, updated_at=case.updated_at,
            )
        )  # fmt: skip

    def add_alert(self, case_id: str, alert: Alert) -> bool:
        """Attach `alert` unless the case has one with the same kind and ref: added?"""
        dialect_insert = (
            postgresql.insert if self.connection.dialect.name == "postgresql" else sqlite.insert
        )
        stmt = (
            dialect_insert(case_alerts)
            .values(
                case_id=case_id,
                kind=alert.kind.value,
                ref=alert.ref[:300],
                severity=alert.severity.value,
                summary=dict(alert.summary),
                raised_by=alert.raised_by,
                raised_at=alert.raised_at,
                order_id=alert.order_id,
                client_id=alert.client_id,
                outcome=alert.outcome,
            )  # fmt: skip
            .on_conflict_do_nothing()
            .returning(case_alerts.c.id)
        )
        return self.connection.execute(stmt).first() is not None

    def touch(self, case_id: str, at: dt.datetime, **values: Any) -> None:
        self.connection.execute(
            update(cases).where(cases.c.case_id == case_id).values(updated_at=at, **values)
        )

    def close(self, case_id: str, at: dt.datetime) -> None:
        self.touch(case_id, at, status=CaseStatus.CLOSED.value, open_customer=None)

    def add_note(self, case_id: str, note: CaseNote) -> None:
        self.connection.execute(
            insert(case_notes).values(
                case_id=case_id, kind=note.kind, author=note.author, body=note.body,
                uri=note.uri, sha256=note.sha256, at=note.at,
            )
        )  # fmt: skip

    def save_decision(self, decision: CaseDecision, *, new: bool) -> None:
        values = {
            "verdict": decision.verdict.value,
            "reasons": list(decision.reasons),
            "prepared_by": decision.prepared_by,
            "prepared_at": decision.prepared_at,
            "required": decision.required,
            "approvals": [{"by": a.by, "at": a.at.isoformat()} for a in decision.approvals],
            "status": decision.status,
        }
        if new:
            self.connection.execute(
                insert(case_decisions).values(
                    decision_id=decision.decision_id, case_id=decision.case_id, **values
                )
            )
        else:
            self.connection.execute(
                update(case_decisions)
                .where(case_decisions.c.decision_id == decision.decision_id)
                .values(**values)
            )

    def case(self, case_id: str) -> Case | None:
        row = self.connection.execute(select(cases).where(cases.c.case_id == case_id)).first()
        if row is None:
            return None
        alerts = self.connection.execute(
            select(case_alerts).where(case_alerts.c.case_id == case_id).order_by(case_alerts.c.id)
        )
        notes = self.connection.execute(
            select(case_notes).where(case_notes.c.case_id == case_id).order_by(case_notes.c.id)
        )
        decisions = self.connection.execute(
            select(case_decisions)
            .where(case_decisions.c.case_id == case_id)
            .order_by(case_decisions.c.prepared_at, case_decisions.c.decision_id)
        )
        return Case(
            row.case_id, row.customer_id, CaseStatus(row.status), row.opened_at, row.updated_at,
            row.assignee, tuple(_alert(a) for a in alerts), tuple(_note(n) for n in notes),
            tuple(_decision(d) for d in decisions),
        )  # fmt: skip

    def list_cases(
        self,
        *,
        status: str | None,
        assignee: str | None,
        customer_ids: Sequence[str] | None,
        after: str | None,
        limit: int,
    ) -> list[Case]:
        """Cases in id order (ids sort by creation), without their alerts and notes."""
        query = select(cases).order_by(cases.c.case_id).limit(limit)
        if status:
            query = query.where(cases.c.status == status)
        if assignee:
            query = query.where(cases.c.assignee == assignee)
        if customer_ids is not None:
            query = query.where(cases.c.customer_id.in_(list(customer_ids)))
        if after:
            query = query.where(cases.c.case_id > after)
        return [
            Case(
                r.case_id,
                r.customer_id,
                CaseStatus(r.status),
                r.opened_at,
                r.updated_at,
                r.assignee,
            )  # fmt: skip
            for r in self.connection.execute(query)
        ]
