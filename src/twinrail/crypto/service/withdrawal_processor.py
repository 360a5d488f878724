"""Drives withdrawals on one chain from `held` to `final`, one step per state, crash-safe.

Steps (each ends by saving the new status with its event and audit record):

- held → signed: price it (gas estimate + margin, EIP-1559 fees from the fee history) and refuse
  it above the chain's fee caps (`refused`, hold released) or when the node says it would revert
  (`failed`, hold released); reserve the nonce for the withdrawal id; sign; store the signed
  bytes with the nonce (`NonceManager.record_signed`) BEFORE anything is broadcast.
  A hot wallet short of ETH for value + gas leaves the withdrawal held with the shortfall as its
  reason, and raises one `crypto.hot_wallet_underfunded` alert; it is signed once funded.
- signed → broadcast: hand the stored bytes to the node (again and again if need be: the same
  bytes are harmless to resend).
- broadcast → mined: a receipt of any signed version of the nonce; a version not mined within
  `stuck_after` is replaced (same nonce, both fee caps up by at least 10 %).
- mined → final or reverted: once the block has the chain's confirmations (or is under the
  node's finalized/safe tag): post the hold or release it, and book the fee actually paid.
  A receipt that disappeared or moved to another block (a reorg) sends it back to broadcast.

Nonce recovery, when no signed version of the nonce has a receipt. If the account's mined nonce
is still at or below ours and the node no longer knows any version, the node dropped it: the same
bytes are broadcast again (never new ones: ours could still be mined). If the chain used our
nonce for a transaction not ours (the key signed elsewhere, the account nonce moved; the node
answers `nonce too low`), nothing is done until that use is final (the account's nonce at the
final height is past ours); then our bytes can never be mined, the reservation is recorded as
superseded and the withdrawal is signed again at a fresh nonce (back to signed, one audited move).
A crash between superseding and signing again leaves a fresh unsigned nonce held for the
withdrawal, which the next round signs.

Crash safety. The ledger and the withdrawal row are written in separate transactions, always
ledger first with deterministic ids, so a retry replays rather than repeats. Before signing, the
processor looks for a nonce reservation of the withdrawal: if its signed bytes exist (a crash
between `record_signed` and saving `signed`), they are adopted as they are; nothing is signed
twice with another nonce. Two processes advancing the same withdrawal are safe too (the lease
per chain only spares the work): the held → signed step runs under a short signing lease per
chain, re-reading the withdrawal first, so signing and refusing (which releases the hold) never
race; the nonce is reserved per withdrawal id under a row lock, a second, different signature
of a nonce is refused, and the row's version check lets one writer win each other move.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import Engine

from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.chains import Chain, FinalitySource
from twinrail.crypto.domain.deposits import confirmed_height
from twinrail.crypto.domain.errors import (
    FeeCapExceeded,
    NodeError,
    NodeUnavailable,
    NonceStateConflict,
)
from twinrail.crypto.domain.fees import FeePolicy, check_fee_within_caps, replacement_fees
from twinrail.crypto.domain.nonces import NonceReservation, ReservationStatus, TxAttempt
from twinrail.crypto.domain.transactions import Eip1559Transaction, FeeQuote
from twinrail.crypto.domain.withdrawals import (
    Withdrawal,
    WithdrawalFault,
    WithdrawalStatus,
    note_underfunded,
    transition,
)
from twinrail.crypto.service.block_reader import JsonRpcBlockReader
from twinrail.crypto.service.fees import FeeEstimator
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.outgoing import OutgoingTransactions
from twinrail.crypto.service.ports import ChainClient
from twinrail.crypto.service.signer import TransactionSigner, decode_transaction
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.crypto.service.withdrawal_books import WithdrawalBooks
from twinrail.crypto.service.withdrawals import audit_transition
from twinrail.crypto.store import withdrawal_store
from twinrail.crypto.store.withdrawal_store import StaleWithdrawal
from twinrail.ledger.domain.errors import LedgerRejection
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.lease import lease_for
from twinrail.platform.uow import UnitOfWork

__all__ = ["WithdrawalProcessor", "Probe"]

log = logging.getLogger("twinrail.crypto.withdrawals")

Probe = Callable[[str, Withdrawal], None]
"""Called at the crash-sensitive points: "before_sign", "signed" and "broadcast"."""

S = WithdrawalStatus
_GAS_MARGIN_PERCENT = 20  # as TransactionSender: an estimate is exact only for the state it ran on


class WithdrawalProcessor:
    """Moves the open withdrawals of one chain forward, paying out from its hot wallet."""

    def __init__(
        self,
        engine: Engine,
        ledger: LedgerService,
        chain: Chain,
        client: ChainClient,
        signer: TransactionSigner,
        hot_address: str,
        *,
        policy: FeePolicy | None = None,
        nonces: NonceManager | None = None,
        stuck_after: dt.timedelta = dt.timedelta(minutes=2),
        clock: Clock = utc_now,
        probe: Probe | None = None,
        batch: int = 100,
    ) -> None:
        self.chain = chain
        self.hot_address = hot_address
        self._engine = engine
        self._client = client
        self._clock = clock
        self._probe = probe or (lambda _point, _w: None)
        self._stuck_after = stuck_after
        self._batch = batch
        self._fees = FeeEstimator(client, policy or FeePolicy(), chain_id=chain.chain_id)
        self._sender = TransactionSender(client, signer, chain_id=chain.chain_id, fees=self._fees)
        self._nonces = nonces or NonceManager(engine, clock=clock)
        self._outgoing = OutgoingTransactions(
            client, self._sender, self._nonces, chain_id=chain.chain_id
        )
        self._books = WithdrawalBooks(ledger, chain)
        self._reader = JsonRpcBlockReader(client)
        # Deciding to sign or to refuse (and so release the hold) must not race between two
        # processes on one withdrawal, or a refusal could void the hold of a signed transaction.
        self._signing = lease_for(engine, f"crypto-withdrawal-signing-{chain.chain_id}")

    def run_once(self) -> int:
        """Advance every open withdrawal of the chain as far as it goes now; the moves made."""
        with UnitOfWork(self._engine) as uow:
            pending = withdrawal_store.open_withdrawals(
                uow.connection, self.chain.chain_id, self._batch
            )
        return sum(self.advance(w) for w in pending)

    def advance(self, w: Withdrawal) -> int:
        """Move `w` through every step it can take now; the number of moves."""
        moves = 0
        while not w.is_terminal:
            try:
                moved = self._step(w)
            except (StaleWithdrawal, NonceStateConflict) as exc:
                # another worker got there first: it carries on from the state it saved
                log.info("withdrawal %s moved by another worker (%s)", w.id, type(exc).__name__)
                return moves
            except LedgerRejection as exc:
                # e.g. a hold an operator released meanwhile: retried every round, others go on
                log.error("withdrawal %s: the ledger refused a step: %s", w.id, exc.message)
                return moves
            except NodeError as exc:
                # the node refused this one step (a down node, NodeUnavailable, ends the round)
                log.warning("withdrawal %s: node error, retrying later: %s", w.id, exc.message)
                return moves
            if moved is None:
                break
            w, moves = moved, moves + 1
        return moves

    def withdrawal(self, withdrawal_id: str) -> Withdrawal | None:
        with UnitOfWork(self._engine) as uow:
            return withdrawal_store.get(uow.connection, withdrawal_id)

    def _step(self, w: Withdrawal) -> Withdrawal | None:
        if w.status is S.HELD:
            return self._sign_alone(w)
        if w.status is S.SIGNED:
            return self._broadcast(w)
        if w.status is S.BROADCAST:
            return self._await_receipt(w)
        if w.status is S.MINED:
            return self._settle(w)
        return None

    # held → signed (or refused / failed)

    def _sign_alone(self, w: Withdrawal) -> Withdrawal | None:
        """Sign (or refuse) while no other process does so on this chain."""
        if not self._signing.try_acquire():
            return None  # another worker is signing here now; next round
        try:
            current = self.withdrawal(w.id)
            if current is None or current.version != w.version:
                return current  # moved meanwhile: carry on from where it is
            return self._sign(current)
        finally:
            self._signing.release()

    def _sign(self, w: Withdrawal) -> Withdrawal | None:
        reservation = self._reservation(w)
        if reservation is None or reservation.raw_tx is None:
            try:
                tx = self._priced(w)
            except FeeCapExceeded as exc:
                details = ", ".join(f"{k}={v}" for k, v in exc.context.items() if k != "chain_id")
                return self._unsent(w, S.REFUSED, f"{exc.message} ({details})", reservation)
            except NodeError as exc:
                reason = f"the node refused the transaction: {exc.context.get('reason', '')}"
                return self._unsent(w, S.FAILED, reason, reservation)
            if not self._books.hold_is_pending(w.hold_id):
                return self._unsent(w, S.FAILED, "the hold is no longer pending", reservation)
            short = self._shortfall(tx)
            if short is not None:
                return self._underfunded(w, *short)
            hot = self.hot_address
            reservation = self._nonces.reserve(
                self.chain.chain_id, hot, w.id, chain_nonce=self._client.mined_nonce(hot)
            )
            if reservation.raw_tx is None:
                reservation = self._sign_at(w, tx, reservation)
        return self._signed(
            w, reservation, f"signed with nonce {reservation.nonce}", hot_address=self.hot_address
        )

    def _signed(
        self, w: Withdrawal, reservation: NonceReservation, reason: str, **changes: object
    ) -> Withdrawal:
        """Move `w` to signed with the reservation's nonce and transaction hash."""
        return self._move(
            w, S.SIGNED, reason, nonce=reservation.nonce, tx_hash=reservation.tx_hash, **changes
        )

    def _sign_at(
        self, w: Withdrawal, tx: Eip1559Transaction, reservation: NonceReservation
    ) -> NonceReservation:
        """Sign `tx` at the reservation's nonce and store the bytes before anything is sent."""
        self._probe("before_sign", w)
        signed = self._sender.sign(replace(tx, nonce=reservation.nonce))
        fees = FeeQuote(tx.max_fee_per_gas, tx.max_priority_fee_per_gas)
        recorded = self._nonces.record_signed(
            self.chain.chain_id,
            reservation.address,
            reservation.nonce,
            signed.raw,
            signed.tx_hash,
            fees,
        )
        self._probe("signed", w)
        return recorded

    def _priced(self, w: Withdrawal) -> Eip1559Transaction:
        """The unsigned transaction (nonce 0 until one is reserved); raises above the caps."""
        if w.token is not None:
            to, value, data = w.token, 0, erc20.encode_transfer(w.to_address, w.amount)
        else:
            to, value, data = w.to_address, w.amount, b""
        estimate = self._client.estimate_gas(self.hot_address, to, value, data)
        gas = estimate * (100 + _GAS_MARGIN_PERCENT) // 100
        fees = self._fees.quote_for(gas)
        return Eip1559Transaction(
            chain_id=self.chain.chain_id,
            sender=self.hot_address,
            nonce=0,
            to=to,
            value=value,
            data=data,
            gas=gas,
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
        )

    def _unsent(
        self,
        w: Withdrawal,
        status: WithdrawalStatus,
        reason: str,
        reservation: NonceReservation | None,
    ) -> Withdrawal:
        """Give back an unsigned nonce, release the hold, then record why (ledger first)."""
        if reservation is not None and reservation.status is ReservationStatus.RESERVED:
            self._nonces.release(self.chain.chain_id, self.hot_address, w.id)
        self._books.void_hold(w.hold_id)
        return self._move(w, status, reason)

    # signed → broadcast

    def _broadcast(self, w: Withdrawal) -> Withdrawal | None:
        reservation = self._reservation(w)
        if reservation is not None and reservation.raw_tx is None:
            return self._resign(w, reservation, f"nonce {w.nonce} was superseded")
        reservation = self._signed_reservation(w)
        try:
            self._outgoing.broadcast(reservation)
        except NodeError as exc:
            # e.g. `nonce too low` for bytes not ours: re-signed once that use of it is final
            if self._client.mined_nonce(reservation.address) > reservation.nonce:
                return self._supersede_if_final(w, reservation)
            assert reservation.raw_tx is not None
            short = self._shortfall(decode_transaction(reservation.raw_tx, reservation.address))
            if short is not None:  # e.g. another payout spent the gas money since signing
                return self._underfunded(w, *short)
            log.warning("withdrawal %s: broadcast refused, retrying: %s", w.id, exc.message)
            return None
        except NodeUnavailable as exc:
            # stays signed: the same bytes are offered again next round, never new ones
            log.warning("withdrawal %s: broadcast failed, retrying later: %s", w.id, exc.message)
            return None
        self._probe("broadcast", w)
        return self._move(w, S.BROADCAST, "handed to the node")

    # broadcast → mined (replacing a stuck transaction)

    def _await_receipt(self, w: Withdrawal) -> Withdrawal | None:
        reservation = self._reservation(w)
        if reservation is not None and reservation.raw_tx is None:
            return self._resign(w, reservation, f"nonce {w.nonce} was superseded")
        reservation = self._signed_reservation(w)
        attempts = self._nonces.attempts(
            self.chain.chain_id, reservation.address, reservation.nonce
        )
        for attempt in reversed(attempts):  # the newest is the likeliest
            receipt = self._client.receipt(attempt.tx_hash)
            if receipt is not None:
                self._nonces.record_mined(
                    self.chain.chain_id, reservation.address, reservation.nonce
                )
                return self._move(
                    w,
                    S.MINED,
                    f"mined in block {receipt.block_number}",
                    tx_hash=receipt.tx_hash,
                    block_number=receipt.block_number,
                    block_hash=receipt.block_hash,
                    gas_used=receipt.gas_used,
                    effective_gas_price=receipt.effective_gas_price,
                    fee=receipt.fee,
                )
        if reservation.status is ReservationStatus.MINED:
            # it was mined, then a reorg took its block away: offer the same bytes again
            try:
                self._client.send_raw_transaction(attempts[-1].raw_tx)
            except NodeError:
                pass  # already in the pool, or the node has it another way
            return None
        if self._client.mined_nonce(reservation.address) > reservation.nonce:
            # none of ours is mined, yet the nonce is used (the pool may still list ours)
            return self._supersede_if_final(w, reservation)
        if not self._node_knows(attempts):
            resent = self._resend_dropped(w, attempts)
            if resent is not None:
                return resent
            # refused again (e.g. its max fee is now below the base fee): the stuck rule applies
        if reservation.updated_at <= self._clock() - self._stuck_after:
            return self._replace(w, reservation)
        return None

    # nonce recovery: dropped, or used by a transaction not ours

    def _node_knows(self, attempts: list[TxAttempt]) -> bool:
        return any(
            self._client.request("eth_getTransactionByHash", [a.tx_hash]) is not None
            for a in attempts
        )

    def _resend_dropped(self, w: Withdrawal, attempts: list[TxAttempt]) -> Withdrawal | None:
        """The node forgot our unmined transaction and the nonce is still free: ours may still be
        mined, so the same bytes go out again, never a new signature (None: the node refused)."""
        latest = attempts[-1]
        try:
            self._client.send_raw_transaction(latest.raw_tx)
        except NodeError as exc:
            log.warning("withdrawal %s: dropped; resend refused: %s", w.id, exc.message)
            return None
        return self._move(
            w,
            S.BROADCAST,
            f"dropped by the node unmined (nonce {latest.nonce} still free): same bytes resent",
        )

    def _supersede_if_final(
        self, w: Withdrawal, reservation: NonceReservation
    ) -> Withdrawal | None:
        """The chain used our nonce and none of our versions has a receipt: once that use is
        final our bytes can never be mined, so the withdrawal is signed again at a fresh nonce."""
        hot, nonce = reservation.address, reservation.nonce
        final_nonce = int(
            self._client.request("eth_getTransactionCount", [hot, hex(self._final_height())]), 16
        )
        attempts = self._nonces.attempts(self.chain.chain_id, hot, nonce)
        if final_nonce <= nonce or any(self._client.receipt(a.tx_hash) for a in attempts):
            log.info("withdrawal %s: nonce %s used on chain, not final yet", w.id, nonce)
            return None  # not final yet (or one of ours was mined meanwhile): next round
        hashes = ", ".join(a.tx_hash for a in attempts)
        fresh = self._nonces.supersede(
            self.chain.chain_id, hot, nonce, w.id, chain_nonce=self._client.mined_nonce(hot)
        )
        why = (
            f"nonce {nonce} was used on chain by a transaction not ours, so {hashes} can never"
            " be mined: superseded"
        )
        return self._resign(w, fresh, why)

    def _resign(self, w: Withdrawal, reservation: NonceReservation, why: str) -> Withdrawal | None:
        """Sign `w` again at its fresh (superseding) nonce, or adopt the bytes stored for it."""
        if reservation.raw_tx is None:
            try:
                tx = self._priced(w)
            except (FeeCapExceeded, NodeError) as exc:
                log.warning("withdrawal %s: cannot re-sign yet: %s", w.id, exc.message)
                return None  # the fresh nonce stays held for it; retried next round
            short = self._shortfall(tx)
            if short is not None:
                return self._underfunded(w, *short)
            reservation = self._sign_at(w, tx, reservation)
        return self._signed(w, reservation, f"{why}; signed again with nonce {reservation.nonce}")

    # a hot wallet without the ETH for gas

    def _shortfall(self, tx: Eip1559Transaction) -> tuple[int, int] | None:
        """(needed, available) wei when the hot wallet cannot pay value + maximum gas cost."""
        needed = tx.value + tx.gas * tx.max_fee_per_gas
        available = self._client.balance(self.hot_address)
        return (needed, available) if available < needed else None

    def _underfunded(self, w: Withdrawal, needed: int, available: int) -> Withdrawal | None:
        """Record the shortfall on `w` (its status unchanged) and alert once; None: no move."""
        noted, alert = note_underfunded(w, self.hot_address, needed, available, self._clock())
        if noted.reason == w.reason:
            return None
        with UnitOfWork(
            self._engine, actor="crypto.withdrawals", correlation_id=w.id, clock=self._clock
        ) as uow:
            withdrawal_store.update_withdrawal(uow.connection, noted, previous_version=w.version)
            if alert is not None:
                uow.publish([alert])
                uow.audit(
                    alert.topic,
                    f"crypto_withdrawal:{w.id}",
                    outcome="refused",
                    reason=noted.reason,
                    chain_id=w.chain_id,
                    address=self.hot_address,
                    needed=str(needed),
                    available=str(available),
                )
            uow.commit()
        log.warning("withdrawal %s waits: %s", w.id, noted.reason)
        return None

    def _replace(self, w: Withdrawal, stuck: NonceReservation) -> Withdrawal | None:
        assert stuck.raw_tx is not None
        tx = decode_transaction(stuck.raw_tx, stuck.address)
        previous = FeeQuote(tx.max_fee_per_gas, tx.max_priority_fee_per_gas)
        try:
            fees = replacement_fees(previous, self._sender.market_fees())
            check_fee_within_caps(fees, tx.gas, self._fees.policy, self.chain.chain_id)
        except FeeCapExceeded as exc:
            log.warning("withdrawal %s stuck; a replacement would break the fee cap: %s", w.id, exc)
            return None
        replaced = self._outgoing.replace(stuck)
        return self._move(
            w,
            S.BROADCAST,
            f"not mined within {self._stuck_after}: replaced with both fee caps raised",
            tx_hash=replaced.tx_hash,
        )

    # mined → final / reverted

    def _settle(self, w: Withdrawal) -> Withdrawal | None:
        assert w.tx_hash is not None and w.block_number is not None
        receipt = self._client.receipt(w.tx_hash)
        if receipt is None or receipt.block_hash != w.block_hash:
            return self._move(w, S.BROADCAST, "its block was reorganised away; awaiting it again")
        if receipt.block_number > self._final_height():
            return None
        if receipt.status == 1:
            self._books.post_hold(w.hold_id)
            self._books.book_fee(w)
            return self._move(w, S.FINAL, f"final after {self.chain.confirmations} confirmations")
        self._books.void_hold(w.hold_id)
        self._books.book_fee(w)
        return self._move(w, S.REVERTED, "the transaction reverted on chain: funds released")

    def _final_height(self) -> int:
        tagged = None
        if self.chain.finality is not FinalitySource.DEPTH:
            tagged = self._reader.tagged_height(self.chain.finality.value)
        return confirmed_height(self._reader.head(), self.chain.confirmations, tagged)

    # persistence

    def _reservation(self, w: Withdrawal) -> NonceReservation | None:
        with UnitOfWork(self._engine) as uow:
            return withdrawal_store.reservation_for(
                uow.connection, self.chain.chain_id, self.hot_address, w.id
            )

    def _signed_reservation(self, w: Withdrawal) -> NonceReservation:
        reservation = self._reservation(w)
        if reservation is None or reservation.raw_tx is None:
            raise WithdrawalFault(
                "a signed withdrawal has no signed transaction on record", withdrawal_id=w.id
            )
        return reservation

    def _move(
        self, w: Withdrawal, status: WithdrawalStatus, reason: str, **changes: object
    ) -> Withdrawal:
        moved, event = transition(w, status, self._clock(), reason, **changes)
        with UnitOfWork(
            self._engine, actor="crypto.withdrawals", correlation_id=w.id, clock=self._clock
        ) as uow:
            withdrawal_store.update_withdrawal(uow.connection, moved, previous_version=w.version)
            audit_transition(uow, event)
            uow.commit()
        return moved
