"""The nonce manager: gap-free, persistent, idempotent per withdrawal, safe under concurrency."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading

import pytest
from sqlalchemy import Engine

from tests.conftest import ManualClock
from twinrail.crypto.domain.errors import NonceStateConflict, ReplacementUnderpriced
from twinrail.crypto.domain.nonces import ReservationStatus
from twinrail.crypto.domain.transactions import FeeQuote
from twinrail.crypto.service.nonces import NonceManager

CHAIN = 31337
HOT = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
FEES = FeeQuote(max_fee_per_gas=20 * 10**9, max_priority_fee_per_gas=10**9)


def test_a_new_sender_starts_at_the_chains_nonce_and_counts_up(engine: Engine) -> None:
    nonces = NonceManager(engine)
    got = [nonces.reserve(CHAIN, HOT, f"w{i}", chain_nonce=7).nonce for i in range(3)]
    assert got == [7, 8, 9]


def test_asking_again_for_the_same_withdrawal_returns_the_same_nonce(engine: Engine) -> None:
    nonces = NonceManager(engine)
    first = nonces.reserve(CHAIN, HOT, "w1")
    nonces.reserve(CHAIN, HOT, "w2")
    assert nonces.reserve(CHAIN, HOT, "w1").nonce == first.nonce == 0


def test_a_released_nonce_is_reused_before_a_new_one_so_no_gap_opens(engine: Engine) -> None:
    nonces = NonceManager(engine)
    for ref in ("w0", "w1", "w2"):
        nonces.reserve(CHAIN, HOT, ref)
    released = nonces.release(CHAIN, HOT, "w1")
    assert (released.status, released.ref) == (ReservationStatus.RELEASED, None)
    assert nonces.reserve(CHAIN, HOT, "w3").nonce == 1
    assert nonces.reserve(CHAIN, HOT, "w4").nonce == 3


def test_nonces_survive_a_restart_with_the_signed_bytes_to_rebroadcast(engine: Engine) -> None:
    before = NonceManager(engine)
    reserved = before.reserve(CHAIN, HOT, "w1")
    before.record_signed(CHAIN, HOT, reserved.nonce, b"\x02signed", "0x" + "ab" * 32, FEES)

    after = NonceManager(engine)  # a new process would start exactly like this
    in_flight = after.in_flight(CHAIN, HOT)
    assert [(r.nonce, r.raw_tx, r.status) for r in in_flight] == [
        (0, b"\x02signed", ReservationStatus.SIGNED)
    ]
    assert after.reserve(CHAIN, HOT, "w2").nonce == 1


def test_a_nonce_is_never_signed_twice_with_different_bytes(engine: Engine) -> None:
    nonces = NonceManager(engine)
    nonce = nonces.reserve(CHAIN, HOT, "w1").nonce
    nonces.record_signed(CHAIN, HOT, nonce, b"first", "0x01", FEES)
    assert nonces.record_signed(CHAIN, HOT, nonce, b"first", "0x01", FEES).raw_tx == b"first"
    with pytest.raises(NonceStateConflict, match="different signed transaction"):
        nonces.record_signed(CHAIN, HOT, nonce, b"second", "0x02", FEES)


def test_a_signed_nonce_cannot_be_released(engine: Engine) -> None:
    nonces = NonceManager(engine)
    nonce = nonces.reserve(CHAIN, HOT, "w1").nonce
    nonces.record_signed(CHAIN, HOT, nonce, b"raw", "0x01", FEES)
    with pytest.raises(NonceStateConflict):
        nonces.release(CHAIN, HOT, "w1")


def test_broadcast_then_mined_leaves_nothing_in_flight(engine: Engine) -> None:
    nonces = NonceManager(engine)
    nonce = nonces.reserve(CHAIN, HOT, "w1").nonce
    nonces.record_signed(CHAIN, HOT, nonce, b"raw", "0x01", FEES)
    assert nonces.record_broadcast(CHAIN, HOT, nonce).status is ReservationStatus.BROADCAST
    assert nonces.record_mined(CHAIN, HOT, nonce).status is ReservationStatus.MINED
    assert nonces.in_flight(CHAIN, HOT) == []
    with pytest.raises(NonceStateConflict):
        nonces.record_broadcast(CHAIN, HOT, nonce)


def test_after_nonce_too_low_the_manager_moves_past_what_the_chain_used(engine: Engine) -> None:
    nonces = NonceManager(engine)
    for ref in ("w0", "w1"):
        nonces.reserve(CHAIN, HOT, ref)
    nonces.release(CHAIN, HOT, "w1")  # nonce 1 is free again ...
    assert nonces.observe_chain_nonce(CHAIN, HOT, 5) == 5  # ... but the chain is already at 5
    assert nonces.reserve(CHAIN, HOT, "w2").nonce == 5


def test_senders_and_chains_count_independently(engine: Engine) -> None:
    nonces = NonceManager(engine)
    other = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
    assert nonces.reserve(CHAIN, HOT, "a").nonce == 0
    assert nonces.reserve(CHAIN, other, "a").nonce == 0
    assert nonces.reserve(CHAIN + 1, HOT, "a").nonce == 0
    assert nonces.reserve(CHAIN, HOT, "b").nonce == 1


def test_concurrent_workers_get_consecutive_nonces_without_duplicates(engine: Engine) -> None:
    workers, per_worker = 6, 8
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        nonces = NonceManager(engine)
        try:
            for i in range(per_worker):
                nonce = nonces.reserve(CHAIN, HOT, f"w{worker}-{i}").nonce
                with lock:
                    got.append(nonce)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(got) == list(range(workers * per_worker))


def test_an_unsigned_nonce_the_chain_used_meanwhile_is_replaced(engine: Engine) -> None:
    nonces = NonceManager(engine)
    assert nonces.reserve(CHAIN, HOT, "w1").nonce == 0
    # before w1 is signed, another tool spends nonces 0 and 1 with the same key
    again = nonces.reserve(CHAIN, HOT, "w1", chain_nonce=2)
    assert again.nonce == 2 and again.status is ReservationStatus.RESERVED
    assert nonces.reserve(CHAIN, HOT, "w2", chain_nonce=2).nonce == 3


def test_a_signed_nonce_is_kept_even_if_the_chain_moved_past_it(engine: Engine) -> None:
    nonces = NonceManager(engine)
    nonce = nonces.reserve(CHAIN, HOT, "w1").nonce
    nonces.record_signed(CHAIN, HOT, nonce, b"raw", "0x01", FEES)
    # it may be our own transaction that was mined: the caller checks its receipt
    assert nonces.reserve(CHAIN, HOT, "w1", chain_nonce=1).raw_tx == b"raw"


_WORKER = """
import json, sys
from twinrail.crypto.service.nonces import NonceManager
from twinrail.platform.db import create_db_engine
url, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
nonces = NonceManager(create_db_engine(url))
got = [nonces.reserve(31337, sys.argv[4], f"{worker}-{i}").nonce for i in range(count)]
print(json.dumps(got))
"""


def test_worker_processes_share_one_gap_free_sequence(engine: Engine) -> None:
    url = engine.url.render_as_string(hide_password=False)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, url, f"p{w}", "10", HOT],
            stdout=subprocess.PIPE,
            text=True,
        )
        for w in range(3)
    ]
    got: list[int] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        got += json.loads(out)
    assert sorted(got) == list(range(30))


def test_a_replacement_must_raise_both_fee_caps_by_ten_percent(engine: Engine) -> None:
    nonces = NonceManager(engine)
    nonce = nonces.reserve(CHAIN, HOT, "w1").nonce
    nonces.record_signed(CHAIN, HOT, nonce, b"v0", "0x01", FEES)
    nonces.record_broadcast(CHAIN, HOT, nonce)
    one_wei_more = FeeQuote(FEES.max_fee_per_gas + 1, FEES.max_priority_fee_per_gas + 1)
    with pytest.raises(ReplacementUnderpriced):  # anvil would take this; real nodes do not
        nonces.record_replacement(CHAIN, HOT, nonce, b"v1", "0x02", one_wei_more)
    only_tip = FeeQuote(FEES.max_fee_per_gas, FEES.max_priority_fee_per_gas * 2)
    with pytest.raises(ReplacementUnderpriced):
        nonces.record_replacement(CHAIN, HOT, nonce, b"v1", "0x02", only_tip)
    bumped = FeeQuote(FEES.max_fee_per_gas * 11 // 10, FEES.max_priority_fee_per_gas * 11 // 10)
    replaced = nonces.record_replacement(CHAIN, HOT, nonce, b"v1", "0x02", bumped)
    assert (replaced.raw_tx, replaced.status) == (b"v1", ReservationStatus.BROADCAST)
    assert [a.tx_hash for a in nonces.attempts(CHAIN, HOT, nonce)] == ["0x01", "0x02"]
    # a restart that re-records the original signing is recognised, not a conflict
    assert nonces.record_signed(CHAIN, HOT, nonce, b"v0", "0x01", FEES).raw_tx == b"v1"


def test_only_broadcast_transactions_older_than_the_window_are_stuck(
    engine: Engine, clock: ManualClock
) -> None:
    nonces = NonceManager(engine, clock=clock)
    for ref, tx_hash in (("w0", "0x01"), ("w1", "0x02")):
        nonce = nonces.reserve(CHAIN, HOT, ref).nonce
        nonces.record_signed(CHAIN, HOT, nonce, tx_hash.encode(), tx_hash, FEES)
    nonces.record_broadcast(CHAIN, HOT, 0)
    clock.advance(minutes=5)
    nonces.record_broadcast(CHAIN, HOT, 1)
    assert [r.nonce for r in nonces.stuck(CHAIN, HOT, window=dt.timedelta(minutes=3))] == [0]
    clock.advance(minutes=5)
    assert [r.nonce for r in nonces.stuck(CHAIN, HOT, window=dt.timedelta(minutes=3))] == [0, 1]
