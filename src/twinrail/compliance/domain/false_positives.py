"""Screening hits marked false positive for one customer, under four eyes.

An analyst proposes; a different analyst approves. An approved mark suppresses the hit only while
both sides are unchanged: it records a fingerprint of the listed entity (its content hash in the
list version that was reviewed) and of the screened party's data. A new list version that changes
the entity, or new customer data, makes the hit fire again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from twinrail.compliance.domain.errors import FourEyesViolation, InvalidCaseAction

__all__ = [
    "MarkStatus",
    "FalsePositiveMark",
    "party_fingerprint",
    "approve_mark",
    "reject_mark",
    "is_suppressed",
]


class MarkStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class FalsePositiveMark:
    """ "`entity_id` on `list_name` is not `party_id`", as proposed and (maybe) approved."""

    mark_id: str
    customer_id: str
    party_id: str
    list_name: str
    entity_id: str
    entity_hash: str
    party_hash: str
    reason: str
    status: MarkStatus
    proposed_by: str
    proposed_at: dt.datetime
    decided_by: str | None = None
    decided_at: dt.datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "mark_id": self.mark_id,
            "customer_id": self.customer_id,
            "party_id": self.party_id,
            "list": self.list_name,
            "entity_id": self.entity_id,
            "reason": self.reason,
            "status": self.status.value,
            "proposed_by": self.proposed_by,
            "proposed_at": self.proposed_at.isoformat(),
            "decided_by": self.decided_by,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


def party_fingerprint(
    name: str, birth_date: str | None, country: str | None, identifiers: Sequence[Sequence[str]]
) -> str:
    """A hash of what was screened about a party; new data gives a new fingerprint."""
    canonical = json.dumps(
        [name, birth_date, country, sorted([list(i) for i in identifiers])], ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def _decide(
    mark: FalsePositiveMark, by: str, at: dt.datetime, status: MarkStatus
) -> FalsePositiveMark:
    if mark.status is not MarkStatus.PROPOSED:
        raise InvalidCaseAction("the mark was already decided", mark_id=mark.mark_id)
    if by == mark.proposed_by:
        raise FourEyesViolation(
            "the analyst who proposed a false positive may not decide it", mark_id=mark.mark_id
        )
    return replace(mark, status=status, decided_by=by, decided_at=at)


def approve_mark(mark: FalsePositiveMark, by: str, at: dt.datetime) -> FalsePositiveMark:
    """The mark approved by a second analyst (FourEyesViolation for the proposer)."""
    return _decide(mark, by, at, MarkStatus.APPROVED)


def reject_mark(mark: FalsePositiveMark, by: str, at: dt.datetime) -> FalsePositiveMark:
    """The mark rejected by a second analyst: the hit stands."""
    return _decide(mark, by, at, MarkStatus.REJECTED)


def is_suppressed(
    marks: Iterable[FalsePositiveMark],
    party_id: str,
    list_name: str,
    entity_id: str,
    entity_hash: str | None,
    party_hash: str | None,
) -> bool:
    """Whether an approved mark covers this hit with the entity and party still unchanged."""
    return any(
        m.status is MarkStatus.APPROVED
        and (m.party_id, m.list_name, m.entity_id) == (party_id, list_name, entity_id)
        and m.entity_hash == entity_hash
        and m.party_hash == party_hash
        for m in marks
    )
