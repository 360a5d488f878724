"""What the pipeline asks compliance and its answer: allow, review or block, with reasons."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

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
    """The facts compliance decides on. The optional counterparty, country and travel-rule
    fields carry the personal data screening needs; they go to compliance only, never to logs
    or events."""

    order_id: str
    client_id: str
    customer_id: str
    order_type: str
    asset: str
    amount: int
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    counterparty_bic: str | None = None
    counterparty_wallet: str | None = None
    counterparty_country: str | None = None  # ISO alpha-2 or a country name
    chain_id: int | None = None
    customer_country: str | None = None  # ISO alpha-2 of the customer's residence
    travel_rule: Mapping[str, Any] | None = field(default=None, hash=False)


def decide_by_limit(request: ScreeningRequest, limit: int | None) -> Decision:
    """Allow up to `limit` minor units per order (None: no limit), block above it."""
    if limit is not None and request.amount > limit:
        return Decision(
            Verdict.BLOCK,
            (f"amount {request.amount} exceeds the customer's per-order limit {limit}",),
        )
    return Decision(Verdict.ALLOW, ("within the customer's limits",))
