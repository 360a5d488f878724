"""Build, sign, send and await transactions from a key-store address (no nonce manager yet)."""

from __future__ import annotations

from twinrail.crypto.domain.transactions import (
    Eip1559Transaction,
    FeeQuote,
    Receipt,
    SignedTransaction,
)
from twinrail.crypto.service.fees import FeeEstimator
from twinrail.crypto.service.ports import ChainClient
from twinrail.crypto.service.signer import TransactionSigner

__all__ = ["TransactionSender"]

_GAS_MARGIN_PERCENT = 20  # estimates are exact for the state they ran on; state can move


class TransactionSender:
    """Sends EIP-1559 transactions signed by the key store, taking the nonce from the node.

    The node's pending count is only safe for one sender process at a time; the persistent
    nonce manager (issue 6 §4) replaces it for withdrawals.
    """

    def __init__(
        self,
        chain: ChainClient,
        signer: TransactionSigner,
        *,
        chain_id: int,
        fees: FeeEstimator | None = None,
    ) -> None:
        self._chain = chain
        self._signer = signer
        self._chain_id = chain_id
        self._fees = fees

    def build(
        self,
        sender: str,
        to: str | None,
        *,
        value: int = 0,
        data: bytes = b"",
        nonce: int | None = None,
    ) -> Eip1559Transaction:
        """A transaction with `nonce` (default: the node's), estimated gas plus margin, fees."""
        gas = self._chain.estimate_gas(sender, to, value, data) * (100 + _GAS_MARGIN_PERCENT) // 100
        # With an estimator, the chain's fee caps are checked here, before anything is signed.
        fees = self._fees.quote_for(gas) if self._fees else self._chain.fee_quote()
        return Eip1559Transaction(
            chain_id=self._chain_id,
            sender=sender,
            nonce=self._chain.pending_nonce(sender) if nonce is None else nonce,
            to=to,
            value=value,
            data=data,
            gas=gas,
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
        )

    def market_fees(self) -> FeeQuote:
        """What the next blocks cost now (the estimator's quote, else the node's)."""
        return self._fees.quote() if self._fees else self._chain.fee_quote()

    def sign(self, tx: Eip1559Transaction) -> SignedTransaction:
        """Sign with the sender's key."""
        return self._signer.sign_transaction(tx)

    def send(
        self,
        sender: str,
        to: str | None,
        *,
        value: int = 0,
        data: bytes = b"",
        timeout_s: float = 30.0,
    ) -> Receipt:
        """Build, sign, broadcast and wait for the receipt."""
        signed = self.sign(self.build(sender, to, value=value, data=data))
        tx_hash = self._chain.send_raw_transaction(signed.raw)
        return self._chain.wait_for_receipt(tx_hash, timeout_s)
