"""The interim compliance decider: configurable per-customer amount limits per order."""

from __future__ import annotations

from collections.abc import Mapping

from twinrail.pipeline.domain.compliance import (
    Decision,
    ScreeningRequest,
    Verdict,
    decide_by_limit,
)
from twinrail.pipeline.service.ports import CompliancePort

__all__ = ["AmountLimitCompliance"]


class AmountLimitCompliance(CompliancePort):
    """Blocks orders above a limit in minor units (per customer, else per asset, else none);
    sends orders above a per-asset review threshold to review."""

    def __init__(
        self,
        *,
        default_limits: Mapping[str, int] | None = None,
        customer_limits: Mapping[str, int] | None = None,
        review_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.default_limits = dict(default_limits or {})
        self.customer_limits = dict(customer_limits or {})
        self.review_limits = dict(review_limits or {})  # by asset: above this, a person looks

    def set_customer_limit(self, customer_id: str, limit: int) -> None:
        self.customer_limits[customer_id] = limit

    def decide(self, request: ScreeningRequest) -> Decision:
        limit = self.customer_limits.get(request.customer_id)
        if limit is None:
            limit = self.default_limits.get(request.asset)
        decision = decide_by_limit(request, limit)
        review_above = self.review_limits.get(request.asset)
        if decision.verdict is Verdict.ALLOW and review_above is not None:
            if request.amount > review_above:
                return Decision(
                    Verdict.REVIEW, (f"amount above the review threshold {review_above}",)
                )
        return decision
