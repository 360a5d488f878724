"""Review cases: alerts open or join a customer's case; analysts assign, comment, attach and
decide under four eyes; a final decision closes the case and tells the pipeline, per order.

Alerts arrive from the outbox: `compliance.movement_decided` with outcome review/block (one
decision alert, plus one rule-hit alert per rule reason) and `compliance.party_flagged` (a
screening hit on the customer or one of its beneficial owners, unless an approved false-positive
mark covers it). The consumer claims each event in `processed_events` inside the same unit of
work as its effects, audit records and events, so a redelivered event changes nothing.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine

from twinrail.compliance.domain.case_events import CaseOpened, ReviewDecided
from twinrail.compliance.domain.cases import (
    Alert,
    AlertKind,
    Case,
    CaseDecision,
    CaseNote,
    CaseStatus,
    Severity,
    Verdict,
    approve_decision,
    check_case_is_open,
    prepare_decision,
)
from twinrail.compliance.domain.errors import InvalidCaseAction, UnknownCase
from twinrail.compliance.domain.false_positives import is_suppressed, party_fingerprint
from twinrail.compliance.domain.owners import business_of_party
from twinrail.compliance.store.case_store import CaseStore
from twinrail.compliance.store.kyc_store import KycStore
from twinrail.compliance.store.party_store import PartyStore
from twinrail.platform.bus import Bus, Subscription
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.consumers import claim_event
from twinrail.platform.db import READ_ONLY
from twinrail.platform.outbox import OutboxMessage
from twinrail.platform.uow import UnitOfWork

__all__ = ["CaseService", "CASE_CONSUMER", "CASE_TOPICS", "STRONG_HIT_SCORE"]

CASE_CONSUMER = "compliance.case_alerts"
CASE_TOPICS = ("compliance.movement_decided", "compliance.party_flagged")
STRONG_HIT_SCORE = 0.95
_SYSTEM = "compliance-engine"

CaseEffect = Callable[[CaseStore, Case, dt.datetime], None]


def _new_id(prefix: str, at: dt.datetime) -> str:
    """Ids that sort by creation time (cursor pagination orders by id)."""
    return f"{prefix}_{int(at.timestamp() * 1_000_000):014x}{uuid.uuid4().hex[:10]}"


class CaseService:
    """Cases over one database; every action is audited under the acting analyst."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine, self.clock = engine, clock

    # --- alerts -------------------------------------------------------------------------

    def handle(self, message: OutboxMessage) -> bool:
        """Turn an outbox event into case alerts, once per event: whether it ran now."""
        if message.topic not in CASE_TOPICS:
            return False
        with UnitOfWork(self.engine, actor=_SYSTEM, clock=self.clock) as uow:
            if not claim_event(uow.connection, CASE_CONSUMER, message.event_id, self.clock):
                return False
            if message.topic == "compliance.movement_decided":
                self._decision_alerts(uow, message.payload)
            else:
                self._hit_alert(uow, message.payload)
            uow.commit()
        return True

    def subscribe(self, bus: Bus) -> list[Subscription]:
        """Attach to `bus` as the durable consumer `compliance.case_alerts`."""

        def handler(message: OutboxMessage) -> None:
            self.handle(message)

        return [bus.subscribe(t, handler, consumer=CASE_CONSUMER) for t in CASE_TOPICS]

    def raise_alert(self, customer_id: str, alert: Alert) -> str:
        """Attach an alert to the customer's open case (opening one): the case id."""
        with UnitOfWork(self.engine, actor=alert.raised_by, clock=self.clock) as uow:
            case_id = self._attach(uow, customer_id, alert)
            uow.commit()
        return case_id

    def _attach(self, uow: UnitOfWork, customer_id: str, alert: Alert) -> str:
        store = CaseStore(uow.connection)
        store.lock_customer_cases(customer_id)
        now = self.clock()
        case_id = store.open_case_id(customer_id)
        if case_id is None:
            case_id = _new_id("case", now)
            store.add_case(Case(case_id, customer_id, CaseStatus.OPEN, now, now))
            uow.publish([CaseOpened(case_id, customer_id)])
            uow.audit("compliance.case.open", f"case:{case_id}", customer_id=customer_id)
        if store.add_alert(case_id, alert):
            store.touch(case_id, now)
            uow.audit(
                "compliance.case.alert", f"case:{case_id}", kind=alert.kind.value,
                ref=alert.ref, severity=alert.severity.value, order_id=alert.order_id,
            )  # fmt: skip
        return case_id

    def _decision_alerts(self, uow: UnitOfWork, payload: dict[str, object]) -> None:
        outcome = str(payload.get("outcome"))
        if outcome not in ("review", "block"):
            return
        decision = KycStore(uow.connection).decision(str(payload["decision_id"]))
        if decision is None:
            return
        now = self.clock()
        client_id = str(decision.inputs.get("client_id") or "") or None
        severity = Severity.HIGH if outcome == "block" else Severity.MEDIUM
        summary = {"decision_id": decision.decision_id, "outcome": outcome,
                   "reasons": [dict(r) for r in decision.reasons]}  # fmt: skip
        base = Alert(AlertKind.DECISION, decision.decision_id, severity, summary, _SYSTEM, now,
                     decision.order_id, client_id, outcome)  # fmt: skip
        self._attach(uow, decision.customer_id, base)
        for reason in decision.reasons:
            code = str(reason.get("code", ""))
            if code.startswith(("rule.", "risk.")) or "rule_id" in reason:
                rule = Alert(
                    AlertKind.RULE_HIT, f"{decision.decision_id}:{code}",
                    Severity(reason.get("severity", severity.value)) if reason.get("severity")
                    in {s.value for s in Severity} else severity,
                    dict(reason), _SYSTEM, now, decision.order_id, client_id, None,
                )  # fmt: skip
                self._attach(uow, decision.customer_id, rule)

    def _hit_alert(self, uow: UnitOfWork, payload: dict[str, object]) -> None:
        party_id, list_name = str(payload["party_id"]), str(payload["list_name"])
        entity_id, version = str(payload["entity_id"]), int(str(payload["list_version"]))
        if _suppressed(uow.connection, party_id, list_name, entity_id, version):
            return
        score = float(str(payload["score"]))
        severity = Severity.HIGH if score >= STRONG_HIT_SCORE else Severity.MEDIUM
        alert = Alert(
            AlertKind.SCREENING_HIT, f"{party_id}|{list_name}|{entity_id}|{version}", severity,
            dict(payload), _SYSTEM, self.clock(),
        )  # fmt: skip
        self._attach(uow, business_of_party(party_id), alert)

    # --- analysts' work -------------------------------------------------------------------

    def assign(self, case_id: str, assignee: str, *, by: str) -> Case:
        """Give the case to `assignee` (an analyst's id)."""

        def effect(store: CaseStore, _case: Case, now: dt.datetime) -> None:
            store.touch(case_id, now, assignee=assignee)

        return self._act(case_id, by, "assign", effect, assignee=assignee)

    def comment(self, case_id: str, body: str, *, by: str) -> Case:
        """Add a comment to an open or closed case."""
        if not body.strip():
            raise InvalidCaseAction("a comment needs text")

        def effect(store: CaseStore, _case: Case, now: dt.datetime) -> None:
            store.add_note(case_id, CaseNote(0, "comment", by, body.strip()[:4000], now))

        return self._act(case_id, by, "comment", effect, open_only=False)

    def attach(self, case_id: str, uri: str, sha256: str, description: str, *, by: str) -> Case:
        """Attach a document by reference: where it is and the SHA-256 of its content."""
        digest = sha256.lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise InvalidCaseAction("sha256 must be 64 hex digits")
        if not uri.strip():
            raise InvalidCaseAction("an attachment needs a URI")

        def effect(store: CaseStore, _case: Case, now: dt.datetime) -> None:
            note = CaseNote(0, "attachment", by, description.strip()[:4000], now,
                            uri.strip()[:2000], digest)  # fmt: skip
            store.add_note(case_id, note)

        return self._act(case_id, by, "attach", effect, open_only=False, uri=uri, sha256=digest)

    def propose(self, case_id: str, verdict: str, reasons: Sequence[str], *, by: str) -> Case:
        """Prepare a decision on the case; others approve it (four eyes)."""
        try:
            typed = Verdict(verdict)
        except ValueError:
            raise InvalidCaseAction("verdict must be allow or block", verdict=verdict) from None

        def effect(store: CaseStore, case: Case, now: dt.datetime) -> None:
            decision = prepare_decision(case, _new_id("cdec", now), typed, reasons, by, now)
            store.save_decision(decision, new=True)

        return self._act(case_id, by, "propose", effect, verdict=typed.value)

    def approve(self, case_id: str, decision_id: str, *, by: str) -> Case:
        """Approve the pending decision; when final, close the case and tell the pipeline."""
        with UnitOfWork(self.engine, actor=by, clock=self.clock) as uow:
            store = CaseStore(uow.connection)
            case = self._load(store, case_id)
            decision = next((d for d in case.decisions if d.decision_id == decision_id), None)
            if decision is None:
                raise UnknownCase("no such decision on this case", decision_id=decision_id)
            now = self.clock()
            approved = approve_decision(case, decision, by, now)
            store.save_decision(approved, new=False)
            uow.audit("compliance.case.approve", f"case:{case_id}", decision_id=decision_id,
                      approvals=len(approved.approvals), required=approved.required)  # fmt: skip
            if approved.status == "final":
                store.close(case_id, now)
                uow.publish(_review_decisions(case, approved))
                uow.audit(
                    "compliance.case.decide", f"case:{case_id}", decision_id=decision_id,
                    verdict=approved.verdict.value, decided_by=list(approved.decided_by),
                    orders=list(case.order_ids),
                )  # fmt: skip
            else:
                store.touch(case_id, now)
            uow.commit()
        return self.case(case_id)

    def _act(
        self,
        case_id: str,
        by: str,
        action: str,
        effect: CaseEffect,
        *,
        open_only: bool = True,
        **details: Any,
    ) -> Case:
        with UnitOfWork(self.engine, actor=by, clock=self.clock) as uow:
            store = CaseStore(uow.connection)
            case = self._load(store, case_id)
            if open_only:
                check_case_is_open(case)
            now = self.clock()
            effect(store, case, now)
            store.touch(case_id, now)
            uow.audit(f"compliance.case.{action}", f"case:{case_id}", **details)
            uow.commit()
        return self.case(case_id)

    @staticmethod
    def _load(store: CaseStore, case_id: str) -> Case:
        case = store.case(case_id)
        if case is None:
            raise UnknownCase("no such case", case_id=case_id)
        return case

    # --- reading ------------------------------------------------------------------------

    def case(self, case_id: str) -> Case:
        """One case with its alerts, notes and decisions."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return self._load(CaseStore(conn), case_id)

    def cases(
        self,
        *,
        status: str | None = None,
        assignee: str | None = None,
        customer_ids: Sequence[str] | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> list[Case]:
        """The review queue: cases in creation order, filtered."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return CaseStore(conn).list_cases(
                status=status, assignee=assignee, customer_ids=customer_ids, after=after,
                limit=limit,
            )  # fmt: skip


def _review_decisions(case: Case, decision: CaseDecision) -> list[ReviewDecided]:
    clients = {a.order_id: a.client_id for a in case.alerts if a.order_id}
    return [
        ReviewDecided(
            case.case_id,
            decision.decision_id,
            order_id,
            clients.get(order_id) or "",
            decision.verdict.value,
            decision.reasons,
            decision.decided_by,
        )  # fmt: skip
        for order_id in case.order_ids
    ]


def _suppressed(
    conn: Connection, party_id: str, list_name: str, entity_id: str, version: int
) -> bool:
    store = PartyStore(conn)
    party = store.party_data(party_id)
    if party is None:
        return False
    marks = store.marks_of_parties([party_id])
    entity_hash = store.entity_hash(list_name, version, entity_id)
    return is_suppressed(marks, party_id, list_name, entity_id, entity_hash,
                         party_fingerprint(*party))  # fmt: skip
