"""Sweeps: token balances on deposit addresses above a threshold go to the hot wallet.

One `Sweeper` per chain (run it under a lease: one process per chain). A pass (`run_once`)
first finishes every sweep a previous run left open, then looks at each deposit address's
balance of each token with a threshold and starts a sweep where it is reached.

Restart safety. The sweep row is written before anything is signed, with the top-up amount
decided once. Each transaction goes through `OutgoingTransactions` under a ref derived from the
sweep id (`sweep-gas:<id>` from the hot wallet, `sweep:<id>` from the deposit address), so the
nonce manager hands the same nonce and the same signed bytes to every retry: a kill -9 anywhere
re-broadcasts, never signs a second transfer. The token transfer is prepared only once the
top-up is mined (the deposit address cannot pay gas before). A transaction not mined within
`stuck_after` of its broadcast is replaced with the same nonce and fees raised by >= 10 %.

Books. A sweep moves no customer money: both addresses are ours, so no customer account is
touched. Two of our own asset accounts are kept equal to what their addresses hold on chain:
`crypto-clearing-<chain>-<asset>` (deposit addresses; debited by deposits) and
`crypto-hot-<chain>-<asset>` (the hot wallet; credited by withdrawals). So each mined
transaction is booked, with an id derived from its hash (a replay after a crash is idempotent):
- the top-up: network fees (debit, its gas) and deposit-side ETH (debit, the value sent)
  against the hot wallet's ETH (credit, both);
- the token transfer: network fees (debit, its gas, paid by the deposit address) against the
  deposit-side ETH (credit); and, if it succeeded, the swept tokens moved from the deposit-side
  account (credit) to the hot wallet's (debit).
The fee and hot-wallet accounts are the ones withdrawals use; the clearing ones the deposits'.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Mapping
from dataclasses import replace

from sqlalchemy import Engine

from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.chains import Chain, Token
from twinrail.crypto.domain.custody import AddressPurpose
from twinrail.crypto.domain.errors import TransactionNotMined
from twinrail.crypto.domain.nonces import NonceReservation, ReservationStatus
from twinrail.crypto.domain.sweeps import (
    Sweep,
    SweepFinished,
    SweepStatus,
    fee_transfer_id,
    gas_ref,
    move_transfer_id,
    sweep_ref,
    top_up_needed,
)
from twinrail.crypto.domain.transactions import Receipt
from twinrail.crypto.service.deposit_books import DepositBooks
from twinrail.crypto.service.outgoing import OutgoingTransactions
from twinrail.crypto.service.ports import ChainClient
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.crypto.service.withdrawal_books import (
    HOT_WALLET,
    NETWORK_FEES,
    hot_wallet_account_id,
    network_fees_account_id,
    open_chain_account,
)
from twinrail.crypto.store import custody_store, sweep_store
from twinrail.ledger.domain.commands import PostTransfer
from twinrail.ledger.domain.model import Posting, Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.uow import UnitOfWork

__all__ = ["Sweeper", "sweep_lease_name"]

log = logging.getLogger("twinrail.crypto.sweeps")

_GAS_MARGIN_PERCENT = 20  # as TransactionSender adds to its estimates


def sweep_lease_name(chain_id: int) -> str:
    """The lease under which exactly one process sweeps `chain_id`."""
    return f"crypto-sweeper-{chain_id}"


class Sweeper:
    """Sweeps listed tokens from deposit addresses to the chain's hot wallet."""

    def __init__(
        self,
        engine: Engine,
        ledger: LedgerService,
        chain: Chain,
        client: ChainClient,
        sender: TransactionSender,
        outgoing: OutgoingTransactions,
        *,
        hot_wallet: str,
        thresholds: Mapping[str, int],
        headroom_percent: int = 150,
        confirm_timeout_s: float = 30.0,
        stuck_after: dt.timedelta = dt.timedelta(minutes=2),
        clock: Clock = utc_now,
    ) -> None:
        self.chain = chain
        self._engine = engine
        self._ledger = ledger
        self._client = client
        self._sender = sender
        self._outgoing = outgoing
        self._hot = hot_wallet
        self._thresholds = {chain.token(symbol).address: n for symbol, n in thresholds.items()}
        self._headroom = headroom_percent
        self._timeout = confirm_timeout_s
        self._stuck_after = stuck_after
        self._clock = clock
        self._clearing = DepositBooks(ledger, chain)
        self._ready: set[str] = set()

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, actor="crypto.sweeper", clock=self._clock)

    def run_once(self) -> int:
        """Finish open sweeps, start new ones where a balance reached its threshold; # finished."""
        finished = 0
        with self._uow() as uow:
            open_ = sweep_store.open_sweeps(uow.connection, self.chain.chain_id)
        for sweep in open_:
            finished += self._advance(sweep)
        for sweep in self._start_new():
            finished += self._advance(sweep)
        return finished

    def sweeps(self) -> list[Sweep]:
        with self._uow() as uow:
            return sweep_store.list_sweeps(uow.connection, self.chain.chain_id)

    # starting

    def _start_new(self) -> list[Sweep]:
        with self._uow() as uow:
            addresses = custody_store.list_addresses(uow.connection, AddressPurpose.DEPOSIT)
        started = []
        for token_address, threshold in self._thresholds.items():
            token = self.chain.token(token_address)
            for a in addresses:
                if self._has_open_sweep(a.address, token.address):
                    continue  # its transaction waits to be mined: never a second sweep
                amount = self._token_balance(token, a.address)
                if amount >= threshold and amount > 0:
                    started.append(self._start(token, a.address, amount))
        return started

    def _has_open_sweep(self, address: str, token: str) -> bool:
        with self._uow() as uow:
            found = sweep_store.open_sweep(uow.connection, self.chain.chain_id, address, token)
        return found is not None

    def _token_balance(self, token: Token, owner: str) -> int:
        return erc20.decode_uint(self._client.call(token.address, erc20.encode_balance_of(owner)))

    def _start(self, token: Token, address: str, amount: int) -> Sweep:
        data = erc20.encode_transfer(self._hot, amount)
        gas = self._client.estimate_gas(address, token.address, 0, data)
        gas = gas * (100 + _GAS_MARGIN_PERCENT) // 100
        max_fee = self._sender.market_fees().max_fee_per_gas
        need = top_up_needed(gas, max_fee, self._client.balance(address), self._headroom)
        now = self._clock()
        sweep = Sweep(
            id="sw_" + uuid.uuid4().hex,
            chain_id=self.chain.chain_id,
            address=address,
            token=token.address,
            asset=token.symbol,
            amount=amount,
            hot_wallet=self._hot,
            status=SweepStatus.TOPPING_UP if need else SweepStatus.SWEEPING,
            top_up_wei=need,
            top_up_tx=None,
            sweep_tx=None,
            fee_wei=None,
            created_at=now,
            updated_at=now,
        )
        with self._uow() as uow:
            sweep_store.insert_sweep(uow.connection, sweep)
            uow.audit(
                "crypto.sweep_started",
                f"sweep:{sweep.id}",
                chain_id=sweep.chain_id,
                address=address,
                asset=token.symbol,
                amount=str(amount),
                top_up_wei=str(need),
            )
            uow.commit()
        return sweep

    # moving on

    def _advance(self, sweep: Sweep) -> int:
        """Take `sweep` as far as it goes now; 1 if it finished."""
        try:
            if sweep.status is SweepStatus.TOPPING_UP:
                sweep = self._top_up(sweep)
            if sweep.status is SweepStatus.SWEEPING:
                sweep = self._sweep(sweep)
        except TransactionNotMined:
            log.info("sweep %s waits for its transaction to be mined", sweep.id)
            return 0
        return 1 if sweep.status in (SweepStatus.DONE, SweepStatus.FAILED) else 0

    def _top_up(self, sweep: Sweep) -> Sweep:
        signed = self._outgoing.prepare(
            gas_ref(sweep.id), self._hot, sweep.address, value=sweep.top_up_wei
        )
        if sweep.top_up_tx is None:
            sweep = self._save(replace(sweep, top_up_tx=signed.tx_hash))
        receipt = self._settle(signed)
        self._book_top_up(receipt, sweep)
        return self._save(replace(sweep, status=SweepStatus.SWEEPING, top_up_tx=receipt.tx_hash))

    def _sweep(self, sweep: Sweep) -> Sweep:
        data = erc20.encode_transfer(sweep.hot_wallet, sweep.amount)
        signed = self._outgoing.prepare(sweep_ref(sweep.id), sweep.address, sweep.token, data=data)
        if sweep.sweep_tx is None:
            sweep = self._save(replace(sweep, sweep_tx=signed.tx_hash))
        receipt = self._settle(signed)
        self._book_sweep(receipt, sweep)
        fee = receipt.gas_used * receipt.effective_gas_price + self._top_up_fee(sweep)
        status = SweepStatus.DONE if receipt.status == 1 else SweepStatus.FAILED
        return self._save(
            replace(sweep, status=status, sweep_tx=receipt.tx_hash, fee_wei=fee), finished=True
        )

    def _settle(self, signed: NonceReservation) -> Receipt:
        """Broadcast (again) and await; a transaction stuck too long is replaced first (+10 %)."""
        stuck = self._clock() - signed.updated_at >= self._stuck_after
        if signed.status is ReservationStatus.BROADCAST and stuck:
            log.warning("sweep transaction %s stuck: replacing it", signed.tx_hash)
            signed = self._outgoing.replace(signed)
        return self._outgoing.confirm(self._outgoing.broadcast(signed), timeout_s=self._timeout)

    def _top_up_fee(self, sweep: Sweep) -> int:
        if sweep.top_up_tx is None:
            return 0
        receipt = self._client.receipt(sweep.top_up_tx)
        return 0 if receipt is None else receipt.gas_used * receipt.effective_gas_price

    def _save(self, sweep: Sweep, *, finished: bool = False) -> Sweep:
        sweep = replace(sweep, updated_at=self._clock())
        with self._uow() as uow:
            sweep_store.update_sweep(uow.connection, sweep)
            if finished:
                uow.publish([SweepFinished(sweep)])
                uow.audit(
                    f"crypto.sweep_{sweep.status.value}",
                    f"sweep:{sweep.id}",
                    outcome="ok" if sweep.status is SweepStatus.DONE else "failed",
                    tx_hash=sweep.sweep_tx,
                    fee_wei=str(sweep.fee_wei),
                )
            uow.commit()
        return sweep

    # books

    def _book_top_up(self, receipt: Receipt, sweep: Sweep) -> None:
        native = self.chain.native.symbol
        fee = receipt.gas_used * receipt.effective_gas_price
        fees, hot = self._fees_account(), self._hot_account(native)
        deposit_side = self._clearing.ensure_clearing(native)
        self._post(
            fee_transfer_id(receipt.tx_hash),
            f"gas top-up of sweep {sweep.id}",
            receipt.tx_hash,
            [
                Posting(fees, Side.DEBIT, fee, native),
                Posting(deposit_side, Side.DEBIT, sweep.top_up_wei, native),
                Posting(hot, Side.CREDIT, fee + sweep.top_up_wei, native),
            ],
        )

    def _book_sweep(self, receipt: Receipt, sweep: Sweep) -> None:
        native = self.chain.native.symbol
        fee = receipt.gas_used * receipt.effective_gas_price
        self._post(
            fee_transfer_id(receipt.tx_hash),
            f"network fee of sweep {sweep.id}",
            receipt.tx_hash,
            [
                Posting(self._fees_account(), Side.DEBIT, fee, native),
                Posting(self._clearing.ensure_clearing(native), Side.CREDIT, fee, native),
            ],
        )
        if receipt.status != 1:
            return  # reverted: the tokens did not move
        asset = sweep.asset
        self._post(
            move_transfer_id(sweep.id),
            f"sweep {sweep.id} to the hot wallet",
            receipt.tx_hash,
            [
                Posting(self._hot_account(asset), Side.DEBIT, sweep.amount, asset),
                Posting(self._clearing.ensure_clearing(asset), Side.CREDIT, sweep.amount, asset),
            ],
        )

    def _post(self, transfer_id: str, reference: str, tx_hash: str, legs: list[Posting]) -> None:
        postings = tuple(p for p in legs if p.amount > 0)  # the ledger takes no zero amounts
        if not postings:
            return
        self._ledger.post_transfer(
            PostTransfer(
                id=transfer_id,
                postings=postings,
                reference=reference,
                metadata={"chain_id": self.chain.chain_id, "tx_hash": tx_hash},
            )
        )

    def _fees_account(self) -> str:
        native = self.chain.native
        return self._ensure(
            network_fees_account_id(self.chain.chain_id, native.symbol), native.symbol, NETWORK_FEES
        )

    def _hot_account(self, asset: str) -> str:
        return self._ensure(hot_wallet_account_id(self.chain.chain_id, asset), asset, HOT_WALLET)

    def _ensure(self, account: str, asset: str, kind: tuple[str, str]) -> str:
        # the same definitions as the withdrawal books: whichever opens them first, they match
        if account not in self._ready:
            open_chain_account(
                self._ledger,
                self.chain.chain_id,
                account,
                asset,
                self._clearing.asset_scale(asset),
                kind,
            )
            self._ready.add(account)
        return account
