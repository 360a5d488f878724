"""What the pipeline asks compliance and its answer: allow, review or block, with reasons."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Verdict", "Decision", "ScreeningRequest", "decide_by_limit"]


class Verdict(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScreeningRequest:
    """The facts compliance decides on; never personal data beyond ids."""

    order_id: str
    client_id: str
    customer_id: str
    order_type: str
    asset: str
    amount: int


def decide_by_limit(request: ScreeningRequest, limit: int | None) -> Decision:
    """Allow up to `limit` minor units per order (None: no limit), block above it."""
    if limit is not None and request.amount > limit:
        return Decision(
            Verdict.BLOCK,
            (f"amount {request.amount} exceeds the customer's per-order limit {limit}",),
        )
    return Decision(Verdict.ALLOW, ("within the customer's limits",))
