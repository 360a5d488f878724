"""Nonce recovery on a real anvil: a transaction the node dropped, and a nonce the chain used for a
transaction that is not ours (the hot key signing elsewhere, the account nonce moved, `nonce too
low` at broadcast).

In every case exactly one of our transactions is mined per withdrawal, the payee is paid once and
the ledger posts the hold once; bytes that could still be mined are never replaced by a new
signature at another nonce.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.crypto.withdrawal_support import (
    ETH,
    PAYEE,
    Rig,
    make_rig,
    open_customer,
    processor_for,
    transitions,
)
from twinrail.audit.store.tables import audit_entries
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.errors import NonceStateConflict
from twinrail.crypto.domain.nonces import ReservationStatus
from twinrail.crypto.domain.transactions import FeeQuote
from twinrail.crypto.domain.withdrawals import Withdrawal, WithdrawalStatus
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.crypto.store.tables import nonce_reservations, tx_attempts
from twinrail.ledger.domain.model import TransferStatus
from twinrail.sandbox.anvil import AnvilNode

S = WithdrawalStatus
OTHER = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65"  # anvil dev account #4: not the payee
AMOUNT = ETH // 10


class _Crash(Exception):
    """Stands in for the process dying at a probe point."""


def _find(rig: Rig, wid: str) -> Withdrawal:
    found = rig.service.find(wid)
    assert found is not None
    return found


def _reasons(engine: Engine, wid: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(audit_entries.c.details)
            .where(audit_entries.c.subject == f"crypto_withdrawal:{wid}")
            .order_by(audit_entries.c.occurred_at)
        ).all()
    return [str(r.details.get("reason", "")) for r in rows]


def _ours_mined(rig: Rig) -> list[str]:
    """Every transaction we ever signed from the hot wallet that has a receipt."""
    with rig.engine.connect() as conn:
        hashes = [r.tx_hash for r in conn.execute(select(tx_attempts.c.tx_hash)).all()]
    return [h for h in hashes if rig.client.receipt(h) is not None]


def _foreign(rig: Rig, nonce: int, *, send: bool = True) -> str:
    """Someone signs with the hot wallet's key directly, outside twinrail, at `nonce`."""
    sender = TransactionSender(rig.client, TransactionSigner(rig.keys), chain_id=rig.chain.chain_id)
    signed = sender.sign(sender.build(rig.hot, OTHER, value=1, nonce=nonce))
    if send:
        rig.client.send_raw_transaction(signed.raw)
    return signed.tx_hash


def _mined(rig: Rig, tx_hash: str) -> bool:
    """Whether `tx_hash` is mined; anvil's automine mines just after the send returns."""
    deadline = time.monotonic() + 10
    while rig.client.receipt(tx_hash) is None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _known(client: Web3ChainClient, tx_hash: str) -> Any:
    return client.request("eth_getTransactionByHash", [tx_hash])


def _assert_paid_once(rig: Rig, wid: str, payee_before: int, funds: int) -> Withdrawal:
    final = _find(rig, wid)
    assert final.status is S.FINAL
    assert _ours_mined(rig) == [final.tx_hash]  # exactly one of ours, the one on record
    assert rig.client.balance(PAYEE) == payee_before + AMOUNT
    assert rig.ledger.transfer(final.hold_id).status is TransferStatus.POSTED
    assert rig.ledger.balance(f"{wid.split('-')[1]}-ETH").posted == funds - AMOUNT
    return final


@pytest.fixture
def rig(engine: Engine, anvil: AnvilNode, software_store: KeyStore) -> Rig:
    return make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)


def test_a_dropped_transaction_is_broadcast_again_with_the_same_bytes(rig: Rig) -> None:
    open_customer(rig.ledger, "dee", {"ETH": ETH})
    payee_before = rig.client.balance(PAYEE)
    rig.client.request("evm_setAutomine", [False])
    processor = processor_for(rig)
    rig.request("w-dee", "dee-ETH", AMOUNT)
    processor.run_once()
    sent = _find(rig, "w-dee")
    assert sent.status is S.BROADCAST and _known(rig.client, sent.tx_hash or "") is not None

    processor.run_once()  # still in the pool: nothing to do
    assert transitions(rig.engine, "w-dee") == ["held", "signed", "broadcast"]

    rig.client.request("anvil_dropTransaction", [sent.tx_hash])
    assert _known(rig.client, sent.tx_hash or "") is None
    processor.run_once()
    resent = _find(rig, "w-dee")
    assert (resent.status, resent.nonce, resent.tx_hash) == (S.BROADCAST, 0, sent.tx_hash)
    assert _known(rig.client, sent.tx_hash or "") is not None  # back in the pool
    assert "dropped" in resent.reason

    rig.mine(1)
    processor.run_once()
    rig.mine(2)
    processor.run_once()
    final = _assert_paid_once(rig, "w-dee", payee_before, ETH)
    assert final.tx_hash == sent.tx_hash
    assert len(NonceManager(rig.engine).attempts(rig.chain.chain_id, rig.hot, 0)) == 1
    assert transitions(rig.engine, "w-dee")[2:] == [
        "broadcast",
        "broadcast",
        "mined",
        "final",
    ]


def test_a_nonce_used_by_a_transaction_not_ours_is_superseded_once_final(rig: Rig) -> None:
    open_customer(rig.ledger, "eve", {"ETH": ETH})
    payee_before = rig.client.balance(PAYEE)
    rig.client.request("evm_setAutomine", [False])
    processor = processor_for(rig)
    rig.request("w-eve", "eve-ETH", AMOUNT)
    processor.run_once()
    ours = _find(rig, "w-eve")
    assert ours.status is S.BROADCAST and ours.nonce == 0

    # our transaction leaves the pool, and the hot key signs another one at nonce 0 elsewhere
    rig.client.request("anvil_dropTransaction", [ours.tx_hash])
    theirs = _foreign(rig, 0)
    rig.mine(1)
    assert _mined(rig, theirs) and rig.client.mined_nonce(rig.hot) == 1
    processor.run_once()  # used, but not final yet: wait, neither resend nor re-sign
    waiting = _find(rig, "w-eve")
    assert (waiting.status, waiting.nonce, waiting.tx_hash) == (S.BROADCAST, 0, ours.tx_hash)

    rig.mine(2)  # the foreign transaction is final: our bytes can never be mined
    processor.run_once()
    again = _find(rig, "w-eve")
    assert again.status is S.BROADCAST and again.nonce == 1 and again.tx_hash != ours.tx_hash
    rig.mine(1)
    processor.run_once()
    rig.mine(2)
    processor.run_once()

    final = _assert_paid_once(rig, "w-eve", payee_before, ETH)
    assert final.nonce == 1 and rig.client.receipt(ours.tx_hash or "") is None
    with rig.engine.connect() as conn:
        rows = conn.execute(select(nonce_reservations).order_by(nonce_reservations.c.nonce)).all()
    assert [(r.nonce, r.status, r.ref) for r in rows] == [
        (0, ReservationStatus.SUPERSEDED.value, None),
        (1, ReservationStatus.MINED.value, "w-eve"),
    ]
    superseded = [r for r in _reasons(rig.engine, "w-eve") if "superseded" in r]
    assert len(superseded) == 1 and (ours.tx_hash or "?") in superseded[0]
    assert transitions(rig.engine, "w-eve") == [
        "held",
        "signed",
        "broadcast",
        "signed",
        "broadcast",
        "mined",
        "final",
    ]


def test_an_account_nonce_moved_past_ours_supersedes_the_signed_transaction(rig: Rig) -> None:
    open_customer(rig.ledger, "fay", {"ETH": ETH})
    payee_before = rig.client.balance(PAYEE)
    rig.client.request("evm_setAutomine", [False])
    processor = processor_for(rig)
    rig.request("w-fay", "fay-ETH", AMOUNT)
    processor.run_once()
    ours = _find(rig, "w-fay")
    assert ours.status is S.BROADCAST and ours.nonce == 0

    rig.client.request("anvil_setNonce", [rig.hot, hex(5)])
    rig.mine(3)
    assert rig.client.receipt(ours.tx_hash or "") is None
    processor.run_once()
    again = _find(rig, "w-fay")
    assert again.status is S.BROADCAST and again.nonce == 5
    rig.mine(1)
    processor.run_once()
    rig.mine(2)
    processor.run_once()

    final = _assert_paid_once(rig, "w-fay", payee_before, ETH)
    assert final.nonce == 5 and rig.client.mined_nonce(rig.hot) == 6
    statuses = {
        r.nonce: r.status for r in NonceManager(rig.engine).in_flight(rig.chain.chain_id, rig.hot)
    }
    assert statuses == {}
    superseded = [r for r in _reasons(rig.engine, "w-fay") if "superseded" in r]
    assert len(superseded) == 1


def test_nonce_too_low_at_broadcast_for_bytes_not_ours_signs_again_once_final(rig: Rig) -> None:
    open_customer(rig.ledger, "gus", {"ETH": ETH})
    payee_before = rig.client.balance(PAYEE)

    def crash_after_signing(point: str, _w: Withdrawal) -> None:
        if point == "signed":
            raise _Crash

    rig.request("w-gus", "gus-ETH", AMOUNT)
    with pytest.raises(_Crash):
        processor_for(rig, probe=crash_after_signing).run_once()
    signed = NonceManager(rig.engine).in_flight(rig.chain.chain_id, rig.hot)
    assert [(r.nonce, r.status) for r in signed] == [(0, ReservationStatus.SIGNED)]

    theirs = _foreign(rig, 0)  # automine: mined at once, our nonce 0 is used
    assert _mined(rig, theirs)
    processor = processor_for(rig)
    processor.run_once()  # `nonce too low`, but the foreign use is not final: stays signed
    waiting = _find(rig, "w-gus")
    assert waiting.status is S.SIGNED and waiting.nonce == 0

    rig.mine(2)
    processor.run_once()  # superseded, signed again at nonce 1, broadcast and mined
    rig.mine(2)
    processor.run_once()

    final = _assert_paid_once(rig, "w-gus", payee_before, ETH)
    assert final.nonce == 1
    assert transitions(rig.engine, "w-gus") == [
        "held",
        "signed",
        "signed",
        "broadcast",
        "mined",
        "final",
    ]
    superseded = [r for r in _reasons(rig.engine, "w-gus") if "superseded" in r]
    assert len(superseded) == 1 and "signed again with nonce 1" in superseded[0]


def test_a_crash_between_superseding_and_signing_again_resumes_at_the_fresh_nonce(
    rig: Rig,
) -> None:
    open_customer(rig.ledger, "hal", {"ETH": ETH})
    payee_before = rig.client.balance(PAYEE)
    rig.client.request("evm_setAutomine", [False])
    rig.request("w-hal", "hal-ETH", AMOUNT)
    processor_for(rig).run_once()
    ours = _find(rig, "w-hal")
    rig.client.request("anvil_dropTransaction", [ours.tx_hash])
    _foreign(rig, 0)
    rig.mine(3)

    def crash_before_signing(point: str, _w: Withdrawal) -> None:
        if point == "before_sign":
            raise _Crash

    with pytest.raises(_Crash):
        processor_for(rig, probe=crash_before_signing).run_once()
    held = NonceManager(rig.engine).reserve(rig.chain.chain_id, rig.hot, "w-hal")
    assert (held.nonce, held.status, held.raw_tx) == (1, ReservationStatus.RESERVED, None)

    processor = processor_for(rig)
    processor.run_once()
    rig.mine(1)
    processor.run_once()
    rig.mine(2)
    processor.run_once()
    final = _assert_paid_once(rig, "w-hal", payee_before, ETH)
    assert final.nonce == 1


# the nonce manager's side of superseding, without a node

CHAIN = 31337
HOT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
FEES = FeeQuote(max_fee_per_gas=20 * 10**9, max_priority_fee_per_gas=10**9)


def _signed(nonces: NonceManager, ref: str, raw: bytes, *, chain_nonce: int = 0) -> int:
    nonce = nonces.reserve(CHAIN, HOT, ref, chain_nonce=chain_nonce).nonce
    nonces.record_signed(CHAIN, HOT, nonce, raw, "0x" + raw.hex().rjust(64, "0"), FEES)
    nonces.record_broadcast(CHAIN, HOT, nonce)
    return nonce


def test_superseding_takes_a_fresh_nonce_past_the_chains_and_keeps_the_old_bytes(
    engine: Engine,
) -> None:
    nonces = NonceManager(engine)
    assert _signed(nonces, "w0", b"\x01") == 0
    assert _signed(nonces, "w1", b"\x02") == 1

    fresh = nonces.supersede(CHAIN, HOT, 0, "w0", chain_nonce=1)
    assert (fresh.nonce, fresh.ref, fresh.status) == (2, "w0", ReservationStatus.RESERVED)
    again = nonces.supersede(CHAIN, HOT, 0, "w0", chain_nonce=1)  # a second worker
    assert again == fresh
    assert [r.nonce for r in nonces.in_flight(CHAIN, HOT)] == [1]  # 0 is no longer ours
    assert [a.raw_tx for a in nonces.attempts(CHAIN, HOT, 0)] == [b"\x01"]  # still on record
    assert nonces.reserve(CHAIN, HOT, "w2").nonce == 3  # the superseded nonce is never reused
    with pytest.raises(NonceStateConflict):  # a superseded nonce is not replaced any more
        nonces.record_replacement(CHAIN, HOT, 0, b"\x09", "0x" + "9" * 64, FEES)


def test_a_nonce_the_chain_has_not_used_cannot_be_superseded(engine: Engine) -> None:
    nonces = NonceManager(engine)
    _signed(nonces, "w0", b"\x01", chain_nonce=4)
    with pytest.raises(NonceStateConflict):
        nonces.supersede(CHAIN, HOT, 4, "w0", chain_nonce=4)
    with pytest.raises(NonceStateConflict):
        nonces.supersede(CHAIN, HOT, 4, "someone-else", chain_nonce=5)
    assert [r.status for r in nonces.in_flight(CHAIN, HOT)] == [ReservationStatus.BROADCAST]
