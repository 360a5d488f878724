"""The ledger side of deposits: credit the customer, or compensate a credit a reorg took away.

Each deposit's credit is a ledger transfer whose id is derived from the deposit's natural key
(and its incarnation), so posting it again is an idempotent replay, never a second credit. The
postings debit a clearing account per chain and asset (what the chain owes our books) and credit
the customer account that owns the deposit address.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from twinrail.crypto.domain.chains import Chain
from twinrail.crypto.domain.deposits import Deposit
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer, ReverseTransfer
from twinrail.ledger.domain.errors import LedgerRejection, UnknownAccount, UnknownTransfer
from twinrail.ledger.domain.model import Posting, Side
from twinrail.ledger.service.ledger_service import LedgerService

__all__ = [
    "AccountResolver",
    "DepositBooks",
    "LedgerChart",
    "customer_account_is_owner",
    "clearing_account_id",
]

AccountResolver = Callable[[str, str], "str | None"]
"""(deposit address owner_ref, ledger asset code) -> the ledger account to credit, or None when
the owner has no account in that asset (the watcher then ignores the payment and counts it)."""

_BATCH = 500


def customer_account_is_owner(owner_ref: str, asset: str) -> str:  # noqa: ARG001
    """The default mapping: a deposit address belongs to one ledger account (its owner_ref)."""
    return owner_ref


def clearing_account_id(chain_id: int, asset: str) -> str:
    """The asset-side account debited by every deposit of `asset` on `chain_id`."""
    return f"crypto-clearing-{chain_id}-{asset}"


def _owner_then_owner_asset(owner_ref: str, asset: str) -> tuple[str, ...]:
    return (owner_ref, f"{owner_ref}-{asset}")


class LedgerChart:
    """A multi-asset chart: the first candidate account that exists in the deposit's asset.

    One deposit address serves every asset of its owner. By default the candidates are the
    owner_ref itself (a single-asset owner) and `<owner_ref>-<asset>` (one account per asset);
    an account found in another asset is skipped, so an ETH credit never lands in a USDC
    account. Hits are cached (an account's asset never changes); misses are asked again.
    """

    def __init__(
        self,
        ledger: LedgerService,
        candidates: Callable[[str, str], Sequence[str]] = _owner_then_owner_asset,
    ) -> None:
        self._ledger = ledger
        self._candidates = candidates
        self._asset_of: dict[str, str] = {}

    def __call__(self, owner_ref: str, asset: str) -> str | None:
        for account in self._candidates(owner_ref, asset):
            if self._asset(account) == asset:
                return account
        return None

    def _asset(self, account: str) -> str | None:
        if account not in self._asset_of:
            try:
                self._asset_of[account] = self._ledger.balance(account).asset
            except UnknownAccount:
                return None
        return self._asset_of[account]


class DepositBooks:
    """Posts deposit credits and their reversals to the ledger, idempotently."""

    def __init__(
        self,
        ledger: LedgerService,
        chain: Chain,
        *,
        account_for: AccountResolver = customer_account_is_owner,
    ) -> None:
        self._ledger = ledger
        self._chain = chain
        self._account_for = account_for
        self._ready: set[str] = set()

    def account_for(self, owner_ref: str, asset: str) -> str | None:
        """The ledger account a deposit of `asset` to `owner_ref`'s address credits, if any."""
        return self._account_for(owner_ref, asset)

    def asset_scale(self, asset: str) -> int:
        if asset == self._chain.native.symbol:
            return self._chain.native.decimals
        return self._chain.token(asset).decimals

    def ensure_clearing(self, asset: str) -> str:
        """The clearing account of `asset` on this chain, opened (idempotently) if needed."""
        account = clearing_account_id(self._chain.chain_id, asset)
        if asset not in self._ready:
            self._ledger.define_asset(DefineAsset(asset, self.asset_scale(asset)))
            self._ledger.open_account(
                OpenAccount(
                    id=account,
                    asset=asset,
                    code="crypto.clearing",
                    name=f"{self._chain.name} {asset} deposits clearing",
                    normal_side=Side.DEBIT,
                    metadata={"chain_id": self._chain.chain_id},
                )
            )
            self._ready.add(asset)
        return account

    def credited_account(self, d: Deposit) -> str:
        """The ledger account `d`'s credit posts to (and its reversal debits)."""
        account = self._account_for(d.owner_ref, d.asset)
        if account is None:  # recorded while it had one: the ledger refuses the unknown account
            account = d.owner_ref
        return account

    def credit_command(self, d: Deposit) -> PostTransfer:
        """The credit of `d`; everything in it is derived from the deposit, so replays match."""
        clearing = self.ensure_clearing(d.asset)
        account = self.credited_account(d)
        return PostTransfer(
            id=d.credit_id,
            postings=(
                Posting(clearing, Side.DEBIT, d.amount, d.asset),
                Posting(account, Side.CREDIT, d.amount, d.asset),
            ),
            reference=f"deposit {d.chain_id}:{d.tx_hash}:{d.log_index}",
            metadata={
                "chain_id": d.chain_id,
                "tx_hash": d.tx_hash,
                "log_index": d.log_index,
                "address": d.address,
                "incarnation": d.incarnation,
            },
        )

    def credit(self, found: Sequence[Deposit]) -> tuple[list[Deposit], list[LedgerRejection]]:
        """Post (or replay) the credits; returns the deposits now credited and the rejections."""
        credited: list[Deposit] = []
        rejected: list[LedgerRejection] = []
        for i in range(0, len(found), _BATCH):
            chunk = list(found[i : i + _BATCH])
            results = self._ledger.post_bulk([self.credit_command(d) for d in chunk])
            for result in results:
                if result.error is None:
                    credited.append(chunk[result.index])
                else:
                    rejected.append(result.error)
        return credited, rejected

    def is_credited(self, d: Deposit) -> bool:
        """Whether the ledger holds this deposit's credit (also after a crash before marking)."""
        try:
            self._ledger.transfer(d.credit_id)
        except UnknownTransfer:
            return False
        return True

    def reverse(self, d: Deposit) -> str:
        """Post (or replay) the compensating entry of `d`'s credit; returns its transfer id."""
        self._ledger.reverse_transfer(
            ReverseTransfer(
                id=d.reversal_id,
                original_id=d.credit_id,
                reference=f"reorg reversal {d.chain_id}:{d.tx_hash}:{d.log_index}",
                # deterministic: a replay after a crash must carry exactly the same body
                metadata={"block_hash": d.block_hash},
            )
        )
        return d.reversal_id
