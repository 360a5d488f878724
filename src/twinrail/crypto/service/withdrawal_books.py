"""The ledger side of withdrawals: hold the customer's funds, post or release them, book the fee.

Chart of accounts, per chain and asset (debit-normal, the platform's own):
- `crypto-hot-<chain>-<asset>`: what the chain's hot wallet holds for us. A withdrawal's hold
  moves funds from the customer's account to it; posting the hold when the transaction is final
  credits it (the coins left the hot wallet).
- `crypto-network-fees-<chain>-<native>`: the gas the platform paid, an expense debited from
  the hot wallet's native account for every mined transaction (reverted ones too).

Every ledger write has an id derived from the withdrawal id and a body derived only from the
request or the receipt, so a retry after a crash is an idempotent replay, never a second entry.
"""

from __future__ import annotations

from twinrail.crypto.domain.chains import Chain
from twinrail.crypto.domain.withdrawals import (
    ValidatedRequest,
    Withdrawal,
    WithdrawalStateConflict,
    fee_transfer_id_for,
    hold_id_for,
)
from twinrail.ledger.domain.commands import (
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import AccountAlreadyExists, HoldNotPending, UnknownTransfer
from twinrail.ledger.domain.model import Posting, Side, Transfer, TransferStatus
from twinrail.ledger.service.ledger_service import LedgerService

__all__ = [
    "WithdrawalBooks",
    "hot_wallet_account_id",
    "network_fees_account_id",
    "open_chain_account",
]


def hot_wallet_account_id(chain_id: int, asset: str) -> str:
    """The ledger account of the hot wallet's `asset` on `chain_id`."""
    return f"crypto-hot-{chain_id}-{asset}"


def network_fees_account_id(chain_id: int, asset: str) -> str:
    """The expense account of the gas paid on `chain_id` (in its native asset)."""
    return f"crypto-network-fees-{chain_id}-{asset}"


# Code and name of each chain account, one definition for every book that opens it (the ledger
# refuses to open an account twice under different descriptions).
HOT_WALLET = ("crypto.hot_wallet", "chain {chain_id} {asset} hot wallet")
NETWORK_FEES = ("crypto.network_fees", "chain {chain_id} network fees")


def open_chain_account(
    ledger: LedgerService,
    chain_id: int,
    account_id: str,
    asset: str,
    decimals: int,
    kind: tuple[str, str],
) -> None:
    """Define `asset` and open the platform's own debit-normal account of `chain_id` for it,
    described by `kind` (HOT_WALLET or NETWORK_FEES).

    Both idempotent for the same definition; a different one raises `AccountAlreadyExists`.
    """
    code, name = kind
    ledger.define_asset(DefineAsset(asset, decimals))
    ledger.open_account(
        OpenAccount(
            id=account_id,
            asset=asset,
            code=code,
            name=name.format(chain_id=chain_id, asset=asset),
            normal_side=Side.DEBIT,
            metadata={"chain_id": chain_id},
        )
    )


class WithdrawalBooks:
    """Holds, posts, voids and fee entries of withdrawals on one chain."""

    def __init__(self, ledger: LedgerService, chain: Chain) -> None:
        self._ledger = ledger
        self._chain = chain
        self._ready: set[str] = set()

    def _ensure(self, account_id: str, asset: str, decimals: int, kind: tuple[str, str]) -> str:
        if account_id not in self._ready:
            try:
                open_chain_account(
                    self._ledger, self._chain.chain_id, account_id, asset, decimals, kind
                )
            except AccountAlreadyExists:
                pass  # opened before under another description (e.g. a renamed chain)
            self._ready.add(account_id)
        return account_id

    def _hot(self, asset: str, decimals: int) -> str:
        return self._ensure(
            hot_wallet_account_id(self._chain.chain_id, asset), asset, decimals, HOT_WALLET
        )

    def hold_command(self, v: ValidatedRequest) -> PostTransfer:
        """The hold of a request; built only from the request, so every placer builds the same."""
        r = v.request
        return PostTransfer(
            id=hold_id_for(r.withdrawal_id),
            postings=(
                Posting(r.account_id, Side.DEBIT, r.amount, v.asset),
                Posting(hot_wallet_account_id(r.chain_id, v.asset), Side.CREDIT, r.amount, v.asset),
            ),
            reference=r.reference or f"withdrawal {r.withdrawal_id}",
            metadata={
                "withdrawal_id": r.withdrawal_id,
                "chain_id": r.chain_id,
                "to_address": v.to_address,
            },
            pending=True,  # no timeout: a hold must outlive any transaction that spends it
        )

    def place_hold(self, v: ValidatedRequest) -> Transfer:
        """Hold the amount on the customer's account (a replay returns the first hold).

        The ledger refuses (LimitExceeded) when the account's available balance is short.
        """
        self._hot(v.asset, v.decimals)
        return self._ledger.post_transfer(self.hold_command(v)).transfer

    def hold(self, hold_id: str) -> Transfer | None:
        try:
            return self._ledger.transfer(hold_id)
        except UnknownTransfer:
            return None

    def hold_is_pending(self, hold_id: str) -> bool:
        hold = self.hold(hold_id)
        return hold is not None and hold.status is TransferStatus.PENDING

    def post_hold(self, hold_id: str) -> None:
        """Post the hold in full (idempotent: a posted hold stays as it is)."""
        hold = self.hold(hold_id)
        if hold is not None and hold.status is TransferStatus.POSTED:
            return
        if hold is None or hold.status is not TransferStatus.PENDING:
            # the coins left but the funds were released: an operator must look at this
            raise WithdrawalStateConflict(
                "the withdrawal's hold is not pending; cannot post it",
                hold_id=hold_id,
                hold_status=hold.status.value if hold else None,
            )
        try:
            self._ledger.post_pending(PostPendingTransfer(hold_id))
        except HoldNotPending:
            if not self._is(hold_id, TransferStatus.POSTED):  # else another worker posted it
                raise

    def void_hold(self, hold_id: str) -> None:
        """Release the hold (idempotent: a missing, voided or expired hold stays as it is)."""
        hold = self.hold(hold_id)
        if hold is None or hold.status in (TransferStatus.VOIDED, TransferStatus.EXPIRED):
            return
        if hold.status is TransferStatus.POSTED:
            raise WithdrawalStateConflict(
                "the withdrawal's hold is already posted; cannot release it", hold_id=hold_id
            )
        try:
            self._ledger.void_pending(VoidPendingTransfer(hold_id))
        except HoldNotPending:
            if not self._is(hold_id, TransferStatus.VOIDED):  # else another worker voided it
                raise

    def _is(self, hold_id: str, status: TransferStatus) -> bool:
        hold = self.hold(hold_id)
        return hold is not None and hold.status is status

    def book_fee(self, w: Withdrawal) -> None:
        """Book the gas the withdrawal's transaction paid: network fees expense from hot wallet."""
        if not w.fee:
            return  # nothing paid (a zero-fee chain): the ledger takes no zero amounts
        native = self._chain.native
        fees = self._ensure(
            network_fees_account_id(self._chain.chain_id, native.symbol),
            native.symbol,
            native.decimals,
            NETWORK_FEES,
        )
        hot = self._hot(native.symbol, native.decimals)
        self._ledger.post_transfer(
            PostTransfer(
                id=fee_transfer_id_for(w.id),
                postings=(
                    Posting(fees, Side.DEBIT, w.fee, native.symbol),
                    Posting(hot, Side.CREDIT, w.fee, native.symbol),
                ),
                reference=f"network fee of withdrawal {w.id}",
                metadata={"withdrawal_id": w.id, "chain_id": w.chain_id, "tx_hash": w.tx_hash},
            )
        )
