"""Marking a customer's screening hit a false positive: one analyst proposes, another decides."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from twinrail.compliance.domain.errors import InvalidCaseAction, UnknownCase
from twinrail.compliance.domain.false_positives import (
    FalsePositiveMark,
    MarkStatus,
    approve_mark,
    party_fingerprint,
    reject_mark,
)
from twinrail.compliance.domain.owners import owner_party_id
from twinrail.compliance.service.party_screening_service import current_hits
from twinrail.compliance.store.party_store import PartyStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = ["FalsePositiveService"]


class FalsePositiveService:
    """Four-eyes false-positive marks over one database; every step is audited."""

    def __init__(self, engine: Engine, *, clock: Clock = utc_now) -> None:
        self.engine, self.clock = engine, clock

    def propose(self, customer_id: str, hit_id: int, reason: str, *, by: str) -> FalsePositiveMark:
        """Propose that the customer's current hit `hit_id` is a false positive."""
        if not reason.strip():
            raise InvalidCaseAction("a false-positive mark needs a reason")
        with UnitOfWork(self.engine, actor=by, clock=self.clock) as uow:
            store = PartyStore(uow.connection)
            hit = next(
                (h for h in current_hits(uow.connection, customer_id).hits
                 if h["hit_id"] == hit_id),
                None,
            )  # fmt: skip
            if hit is None:
                raise UnknownCase("no such current hit for this customer", hit_id=hit_id)
            party = store.party_data(hit["party_id"])
            entity_hash = store.entity_hash(hit["list"], hit["list_version"], hit["entity_id"])
            if party is None or entity_hash is None:
                raise InvalidCaseAction("the hit's party or entity is no longer known")
            mark = FalsePositiveMark(
                f"fpm_{uuid.uuid4().hex}", customer_id, hit["party_id"], hit["list"],
                hit["entity_id"], entity_hash, party_fingerprint(*party), reason.strip()[:1000],
                MarkStatus.PROPOSED, by, self.clock(),
            )  # fmt: skip
            store.add_mark(mark)
            uow.audit(
                "compliance.false_positive.propose", f"customer:{customer_id}",
                mark_id=mark.mark_id, party_id=mark.party_id, list=mark.list_name,
                entity_id=mark.entity_id,
            )  # fmt: skip
            uow.commit()
        return mark

    def approve(self, mark_id: str, *, by: str) -> FalsePositiveMark:
        """Approve a proposed mark (FourEyesViolation for its proposer)."""
        return self._decide(mark_id, by, approve=True)

    def reject(self, mark_id: str, *, by: str) -> FalsePositiveMark:
        """Reject a proposed mark: the hit keeps firing."""
        return self._decide(mark_id, by, approve=False)

    def _decide(self, mark_id: str, by: str, *, approve: bool) -> FalsePositiveMark:
        with UnitOfWork(self.engine, actor=by, clock=self.clock) as uow:
            store = PartyStore(uow.connection)
            mark = store.mark(mark_id)
            if mark is None:
                raise UnknownCase("no such false-positive mark", mark_id=mark_id)
            decided = (approve_mark if approve else reject_mark)(mark, by, self.clock())
            store.save_mark(decided)
            uow.audit(
                f"compliance.false_positive.{'approve' if approve else 'reject'}",
                f"customer:{mark.customer_id}",
                mark_id=mark_id,
                proposed_by=mark.proposed_by,
            )
            uow.commit()
        return decided

    def marks(self, customer_id: str) -> list[FalsePositiveMark]:
        """Every mark on the customer's parties, oldest first."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            store = PartyStore(conn)
            owners = store.owners(customer_id)
            parties = [customer_id, *(owner_party_id(customer_id, o.owner_id) for o in owners)]
            return store.marks_of_parties(parties)
