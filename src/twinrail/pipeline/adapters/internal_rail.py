"""The internal rail: ledger to ledger. Reserve is a hold, submit posts it, release voids it.

Ledger transfer ids derive from the order id, so every step is safe to repeat after a crash:
the ledger answers a replayed id with its first outcome.
"""

from __future__ import annotations

from twinrail.ledger.domain.commands import (
    PostPendingTransfer,
    PostTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import HoldNotPending, UnknownTransfer
from twinrail.ledger.domain.model import Posting, Side, TransferStatus
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.pipeline.domain.errors import InvalidOrder
from twinrail.pipeline.domain.model import OrderType, PaymentOrder
from twinrail.pipeline.service.ports import Rail, RailOutcome
from twinrail.platform.uow import Origin

__all__ = ["InternalRail", "hold_id_of"]


def hold_id_of(order: PaymentOrder) -> str:
    return f"po:{order.id}:hold"


class InternalRail(Rail):
    """Moves funds between two ledger accounts of the same asset."""

    order_type = OrderType.INTERNAL_TRANSFER
    completes_on_submit = True

    def __init__(
        self,
        ledger: LedgerService,
        *,
        committer: GroupCommitter | None = None,
        hold_timeout_seconds: int = 3600,
    ) -> None:
        self.ledger = ledger
        self.committer = committer
        self.hold_timeout_seconds = hold_timeout_seconds

    def validate(self, order: PaymentOrder) -> None:
        if order.source_account == order.destination_account:
            raise InvalidOrder("source and destination must differ")

    def reserve(self, order: PaymentOrder) -> None:
        cmd = PostTransfer(
            id=hold_id_of(order),
            postings=(
                Posting(order.source_account, Side.DEBIT, order.amount, order.asset),
                Posting(order.destination_account, Side.CREDIT, order.amount, order.asset),
            ),
            reference=order.reference,
            metadata={"payment_order_id": order.id},
            pending=True,
            timeout_seconds=self.hold_timeout_seconds,
        )
        origin = Origin(f"client:{order.client_id}", order.id)
        if self.committer is not None:
            # many concurrent orders share one commit for their holds
            self.committer.post_transfer(cmd, origin=origin)
        else:
            self.ledger.acting_as(origin.actor, order.id).post_transfer(cmd)

    def submit(self, order: PaymentOrder) -> RailOutcome:
        origin = Origin(f"client:{order.client_id}", order.id)
        ledger = self.ledger.acting_as(origin.actor, order.id)
        cmd = PostPendingTransfer(hold_id_of(order))
        try:
            if self.committer is not None:
                self.committer.post_pending(cmd, origin=origin)
            else:
                ledger.post_pending(cmd)
        except HoldNotPending:
            if ledger.transfer(hold_id_of(order)).settled_postings:
                return RailOutcome(completed=True, reason="posted in the ledger")  # a replay
            return RailOutcome(completed=False, failed=True, reason="the hold expired")
        return RailOutcome(completed=True, reason="posted in the ledger")

    def status(self, order: PaymentOrder) -> RailOutcome:
        try:
            hold = self.ledger.transfer(hold_id_of(order))
        except UnknownTransfer:
            return RailOutcome(completed=False, reason="no funds held yet")
        if hold.settled_postings:
            return RailOutcome(completed=True, reason="posted in the ledger")
        if hold.status in (TransferStatus.VOIDED, TransferStatus.EXPIRED):
            return RailOutcome(completed=False, failed=True, reason=f"hold {hold.status.value}")
        return RailOutcome(completed=False, reason="funds held")

    def release(self, order: PaymentOrder) -> None:
        try:
            self.ledger.acting_as(f"client:{order.client_id}", order.id).void_pending(
                VoidPendingTransfer(hold_id_of(order))
            )
        except (HoldNotPending, UnknownTransfer):
            pass  # nothing held (any more): releasing is already done
