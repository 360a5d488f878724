"""Beneficial owners of a business customer, each screened as a party of its own.

Shares are kept in basis points (1/100 of a percent) so that 33.33 % is exact. A hit on any
owner's party flags the business: its movements go to review (or block, for a strong hit).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from twinrail.compliance.domain.decision import MovementDecision, Outcome, Reason
from twinrail.compliance.domain.errors import InvalidBeneficialOwners

__all__ = [
    "BeneficialOwner",
    "owner_party_id",
    "business_of_party",
    "ownership_bps",
    "check_owners_are_valid",
    "party_hit_reasons",
    "escalate",
]

_PARTY_MARK = "/owner/"


@dataclass(frozen=True, slots=True)
class BeneficialOwner:
    """A natural person owning part of a business."""

    owner_id: str
    name: str
    birth_date: dt.date | None
    country: str | None
    ownership_bps: int  # 2500 = 25 %

    @property
    def ownership_percent(self) -> str:
        return str(Decimal(self.ownership_bps) / 100)


def owner_party_id(business_id: str, owner_id: str) -> str:
    """The screened-party id of an owner: screening hits and false positives use it."""
    return f"{business_id}{_PARTY_MARK}{owner_id}"


def business_of_party(party_id: str) -> str:
    """The customer a party belongs to: the business for an owner, else the party itself."""
    return party_id.split(_PARTY_MARK, 1)[0]


def ownership_bps(percent: str | float | Decimal) -> int:
    """A share in percent as basis points; InvalidBeneficialOwners outside (0, 100]."""
    try:
        value = Decimal(str(percent))
    except InvalidOperation:
        raise InvalidBeneficialOwners("the ownership share is not a number") from None
    if not Decimal(0) < value <= Decimal(100) or value != value.quantize(Decimal("0.01")):
        raise InvalidBeneficialOwners("an ownership share must be in (0, 100] with 2 decimals")
    return int(value * 100)


def check_owners_are_valid(owners: Sequence[BeneficialOwner]) -> None:
    """InvalidBeneficialOwners for a nameless owner, a duplicate id or shares over 100 %."""
    ids = [o.owner_id for o in owners]
    if len(set(ids)) != len(ids) or not all(i.strip() for i in ids):
        raise InvalidBeneficialOwners("owner ids must be present and unique")
    if not all(o.name.strip() for o in owners):
        raise InvalidBeneficialOwners("every owner needs a name")
    if not all(0 < o.ownership_bps <= 10_000 for o in owners):
        raise InvalidBeneficialOwners("an ownership share must be in (0, 100]")
    if sum(o.ownership_bps for o in owners) > 10_000:
        raise InvalidBeneficialOwners("ownership shares add up to more than 100 %")


def party_hit_reasons(
    hits: Sequence[tuple[bool, float, str, str]], block_score: float
) -> list[Reason]:
    """Reasons for standing hits on the customer or its owners: (on an owner?, score, list,
    entity id) each; a hit at or above `block_score` blocks, a weaker one asks for review."""
    reasons = []
    for on_owner, score, list_name, entity_id in hits:
        code = "sanctions.beneficial_owner_hit" if on_owner else "sanctions.customer_hit"
        outcome = Outcome.BLOCK if score >= block_score else Outcome.REVIEW
        reasons.append(Reason(code, outcome, f"{list_name}:{entity_id} score {score:.2f}"))
    return reasons


def escalate(decision: MovementDecision, reasons: Sequence[Reason]) -> MovementDecision:
    """`decision` with `reasons` added; its outcome the most severe of all its reasons."""
    if not reasons:
        return decision
    severity = {Outcome.ALLOW: 0, Outcome.REVIEW: 1, Outcome.BLOCK: 2}
    outcome = max((decision.outcome, *(r.outcome for r in reasons)), key=severity.__getitem__)
    return replace(decision, outcome=outcome, reasons=(*decision.reasons, *reasons))
