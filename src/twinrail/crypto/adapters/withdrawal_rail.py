"""The chain rail for the pipeline: `crypto_withdrawal` orders become withdrawals.

An order carries `chain_id` and `to_address` in its metadata, the customer's ledger account as
`source_account`, the asset symbol ("ETH", "USDC") and the amount in base units. The rail picks
its own counter account (the chain's hot wallet account), so `destination_account` may be empty.

reserve places the withdrawal's ledger hold and submit records the withdrawal; both derive the
withdrawal id from the order id, so the hold reserve places is the very hold the withdrawal later
posts (or releases), and both are safe to repeat. status follows the withdrawal; the pipeline's
worker polls it until the chain's confirmations make it final.
"""

from __future__ import annotations

from twinrail.crypto.domain.errors import CryptoRejection
from twinrail.crypto.domain.withdrawals import TERMINAL, WithdrawalRequest, WithdrawalStatus
from twinrail.crypto.service.withdrawals import WithdrawalService
from twinrail.pipeline.domain.errors import InvalidOrder
from twinrail.pipeline.domain.model import OrderType, PaymentOrder
from twinrail.pipeline.service.ports import Rail, RailOutcome

__all__ = ["WithdrawalRail", "withdrawal_id_of"]


def withdrawal_id_of(order: PaymentOrder) -> str:
    """The withdrawal that carries `order`."""
    return f"po:{order.id}"


def _request(order: PaymentOrder) -> WithdrawalRequest:
    raw_chain = order.metadata.get("chain_id")
    try:
        chain_id = int(str(raw_chain))
    except ValueError:
        raise InvalidOrder("metadata.chain_id must be a chain id", chain_id=raw_chain) from None
    to_address = order.metadata.get("to_address")
    if not isinstance(to_address, str):
        raise InvalidOrder("metadata.to_address is required")
    return WithdrawalRequest(
        withdrawal_id=withdrawal_id_of(order),
        account_id=order.source_account,
        chain_id=chain_id,
        asset=order.asset,
        amount=order.amount,
        to_address=to_address,
        reference=order.reference,
    )


class WithdrawalRail(Rail):
    """Pays crypto out of custody to an external address on an EVM chain."""

    order_type = OrderType.CRYPTO_WITHDRAWAL

    def __init__(self, withdrawals: WithdrawalService) -> None:
        self.withdrawals = withdrawals

    def validate(self, order: PaymentOrder) -> None:
        try:
            self.withdrawals.validate(_request(order))
        except CryptoRejection as exc:
            raise InvalidOrder(exc.message, cause=exc.code, **exc.context) from None

    def reserve(self, order: PaymentOrder) -> None:
        self.withdrawals.place_hold(_request(order))

    def submit(self, order: PaymentOrder) -> RailOutcome:
        withdrawal = self.withdrawals.request(_request(order))
        return RailOutcome(completed=False, reason=f"withdrawal {withdrawal.status.value}")

    def status(self, order: PaymentOrder) -> RailOutcome:
        withdrawal = self.withdrawals.find(withdrawal_id_of(order))
        if withdrawal is None:
            return RailOutcome(completed=False, reason="not submitted to the chain yet")
        if withdrawal.status is WithdrawalStatus.FINAL:
            return RailOutcome(completed=True, reason=f"final on chain: {withdrawal.tx_hash}")
        if withdrawal.status in TERMINAL:
            return RailOutcome(
                completed=False,
                failed=True,
                reason=f"withdrawal {withdrawal.status.value}: {withdrawal.reason}",
            )
        return RailOutcome(completed=False, reason=f"withdrawal {withdrawal.status.value}")

    def release(self, order: PaymentOrder) -> None:
        request = _request(order)
        self.withdrawals.release(request.withdrawal_id, request.chain_id)
