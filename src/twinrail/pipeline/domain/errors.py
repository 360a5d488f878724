"""The pipeline's error tree. Every leaf has a stable dotted `code` and structured `context`.

PipelineError
└── PipelineRejection            the order cannot be taken or changed as asked
    ├── InvalidOrder             malformed: same account twice, asset mismatch, bad amount
    ├── UnknownOrder             no order with this id for this client
    ├── RailNotEnabled           no rail is registered for the order's type yet
    ├── InvalidTransition        the state machine forbids this move
    └── OrderNotCancellable      the rail has accepted the order; it can no longer be cancelled
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "PipelineError",
    "PipelineRejection",
    "InvalidOrder",
    "UnknownOrder",
    "RailNotEnabled",
    "InvalidTransition",
    "OrderNotCancellable",
]


class PipelineError(TwinrailError):
    """Root of every error the pipeline raises."""

    code = "pipeline.error"


class PipelineRejection(PipelineError):
    """The order cannot be taken or changed as asked; nothing changed."""

    code = "pipeline.rejected"


class InvalidOrder(PipelineRejection):
    """Raised for a malformed order: same account twice, asset mismatch, non-positive amount."""

    code = "pipeline.invalid_order"


class UnknownOrder(PipelineRejection):
    """Raised when no order has this id (for this client)."""

    code = "pipeline.unknown_order"


class RailNotEnabled(PipelineRejection):
    """Raised when the order's type has no rail registered yet (bank, chain, ramps)."""

    code = "pipeline.rail_not_enabled"


class InvalidTransition(PipelineRejection):
    """Raised when the state machine forbids moving from the current state to the asked one."""

    code = "pipeline.invalid_transition"


class OrderNotCancellable(PipelineRejection):
    """Raised when cancelling an order its rail has already accepted."""

    code = "pipeline.order_not_cancellable"
