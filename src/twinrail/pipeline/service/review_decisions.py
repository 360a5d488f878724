"""Compliance's review decisions, carried out on the orders they concern.

The compliance engine publishes `compliance.review_decided` when reviewers release or block an
order held for review. Carrying it out is idempotent by the order's state (an order no longer
in review is left alone), so a redelivered decision changes nothing.
"""

from __future__ import annotations

import structlog

from twinrail.pipeline.domain.errors import UnknownOrder
from twinrail.pipeline.service.payment_orders import PaymentOrderService
from twinrail.platform.bus import Bus, Subscription
from twinrail.platform.outbox import OutboxMessage

__all__ = ["REVIEW_DECIDED", "REVIEW_CONSUMER", "apply_review_decision", "subscribe"]

REVIEW_DECIDED = "compliance.review_decided"
REVIEW_CONSUMER = "pipeline.review_decisions"

log = structlog.get_logger(__name__)


def apply_review_decision(orders: PaymentOrderService, message: OutboxMessage) -> None:
    """Approve (and run) or reject the order the decision names."""
    payload = message.payload
    verdict = str(payload.get("verdict", ""))
    if verdict not in ("allow", "block"):
        log.warning("pipeline.review_decision_ignored", event_id=message.event_id)
        return
    reasons = [str(r) for r in payload.get("reasons") or []]
    deciders = [str(d) for d in payload.get("decided_by") or []]
    reason = f"review {'released' if verdict == 'allow' else 'blocked'} the order"
    if reasons:
        reason += ": " + "; ".join(reasons)
    try:
        orders.resolve_review(
            str(payload["order_id"]),
            allow=verdict == "allow",
            reason=reason,
            actor="compliance:" + "+".join(deciders or ["review"]),
        )
    except UnknownOrder:
        log.warning("pipeline.review_decision_for_unknown_order", event_id=message.event_id)


def subscribe(bus: Bus, orders: PaymentOrderService) -> Subscription:
    """Attach to `bus` as the durable consumer `pipeline.review_decisions`."""
    return bus.subscribe(
        REVIEW_DECIDED,
        lambda message: apply_review_decision(orders, message),
        consumer=REVIEW_CONSUMER,
    )
