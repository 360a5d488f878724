"""Outgoing transactions with managed nonces: prepare (reserve + sign + persist), broadcast,
confirm, and resume after a crash at any point without ever signing a second transaction.

This is the sending core a withdrawal will use: stuck transactions are replaced (speed-up or
cancel) here; the ledger postings are not here yet.
"""

from __future__ import annotations

import time
from dataclasses import replace

from twinrail.crypto.domain.errors import NodeError, TransactionNotMined
from twinrail.crypto.domain.fees import replacement_fees
from twinrail.crypto.domain.nonces import NonceReservation, ReservationStatus
from twinrail.crypto.domain.transactions import FeeQuote, Receipt
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.ports import ChainClient
from twinrail.crypto.service.signer import decode_transaction
from twinrail.crypto.service.transfers import TransactionSender

__all__ = ["OutgoingTransactions"]

_POLL_S = 0.05
_TRANSFER_GAS = 21_000  # a plain value transfer to an account without code


class OutgoingTransactions:
    """Sends transactions for `ref`s (withdrawal ids) from custody addresses on one chain."""

    def __init__(
        self, chain: ChainClient, sender: TransactionSender, nonces: NonceManager, *, chain_id: int
    ) -> None:
        self._chain = chain
        self._sender = sender
        self._nonces = nonces
        self._chain_id = chain_id

    def prepare(
        self, ref: str, sender: str, to: str | None, *, value: int = 0, data: bytes = b""
    ) -> NonceReservation:
        """Reserve a nonce for `ref` and persist the signed bytes; a repeat returns them as is."""
        reservation = self._nonces.reserve(
            self._chain_id, sender, ref, chain_nonce=self._chain.mined_nonce(sender)
        )
        if reservation.raw_tx is not None:
            return reservation  # signed before a crash: the same bytes, never new ones
        tx = self._sender.build(sender, to, value=value, data=data, nonce=reservation.nonce)
        signed = self._sender.sign(tx)
        fees = FeeQuote(tx.max_fee_per_gas, tx.max_priority_fee_per_gas)
        return self._nonces.record_signed(
            self._chain_id, reservation.address, reservation.nonce, signed.raw, signed.tx_hash, fees
        )

    def replace(self, reservation: NonceReservation, *, cancel: bool = False) -> NonceReservation:
        """Re-sign the stuck transaction with the same nonce and fee caps raised by >= 10 %.

        A cancel sends zero to ourselves instead, so only the fee is spent. The new version is
        stored before it is broadcast; every earlier version stays on record, since any of them
        may still be the one that gets mined.
        """
        if reservation.raw_tx is None:
            raise ValueError("only a signed reservation can be replaced")
        stuck = decode_transaction(reservation.raw_tx, reservation.address)
        previous = FeeQuote(stuck.max_fee_per_gas, stuck.max_priority_fee_per_gas)
        fees = replacement_fees(previous, self._sender.market_fees())
        tx = replace(
            stuck,
            max_fee_per_gas=fees.max_fee_per_gas,
            max_priority_fee_per_gas=fees.max_priority_fee_per_gas,
        )
        if cancel:
            tx = replace(tx, to=reservation.address, value=0, data=b"", gas=_TRANSFER_GAS)
        signed = self._sender.sign(tx)
        replaced = self._nonces.record_replacement(
            self._chain_id, reservation.address, reservation.nonce, signed.raw, signed.tx_hash, fees
        )
        return self.broadcast(replaced)

    def broadcast(self, reservation: NonceReservation) -> NonceReservation:
        """Hand the signed bytes to the node; harmless if it already has or mined them."""
        if reservation.raw_tx is None or reservation.tx_hash is None:
            raise ValueError("only a signed reservation can be broadcast")
        if reservation.status is ReservationStatus.MINED:
            return reservation
        try:
            self._chain.send_raw_transaction(reservation.raw_tx)
        except NodeError:
            # "already known" or "nonce too low" for our own bytes is success; anything else
            # with no trace of our transaction on the node is a real failure.
            if self._chain.receipt(reservation.tx_hash) is None and not self._known(reservation):
                raise
        if reservation.status is ReservationStatus.BROADCAST:
            return reservation
        return self._nonces.record_broadcast(self._chain_id, reservation.address, reservation.nonce)

    def confirm(self, reservation: NonceReservation, *, timeout_s: float = 30.0) -> Receipt:
        """Wait until one version of the nonce's transaction is mined; mark the nonce mined."""
        hashes = [
            a.tx_hash
            for a in self._nonces.attempts(self._chain_id, reservation.address, reservation.nonce)
        ]
        deadline = time.monotonic() + timeout_s
        while True:
            for tx_hash in reversed(hashes):  # the newest is the likeliest
                receipt = self._chain.receipt(tx_hash)
                if receipt is not None:
                    self._nonces.record_mined(
                        self._chain_id, reservation.address, reservation.nonce
                    )
                    return receipt
            if time.monotonic() > deadline:
                raise TransactionNotMined(
                    "no version of the transaction was mined in time",
                    chain_id=self._chain_id,
                    nonce=reservation.nonce,
                    tx_hashes=hashes,
                )
            time.sleep(_POLL_S)

    def send(
        self, ref: str, sender: str, to: str | None, *, value: int = 0, data: bytes = b""
    ) -> Receipt:
        """Prepare, broadcast and confirm in one go."""
        return self.confirm(self.broadcast(self.prepare(ref, sender, to, value=value, data=data)))

    def resume(self, sender: str, *, timeout_s: float = 30.0) -> list[Receipt]:
        """After a restart: rebroadcast every signed, unmined transaction and await them."""
        in_flight = self._nonces.in_flight(self._chain_id, sender)
        broadcast = [self.broadcast(r) for r in in_flight]
        return [self.confirm(r, timeout_s=timeout_s) for r in broadcast]

    def _known(self, reservation: NonceReservation) -> bool:
        found = self._chain.request("eth_getTransactionByHash", [reservation.tx_hash])
        return found is not None
