"""kill -9 of a withdrawal worker mid-way, then a restart; two worker processes at once.

Whatever the moment of the kill, the chain sees exactly one transaction per withdrawal, and the
nonce of a withdrawal is never signed a second time with another nonce.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from tests.crypto.withdrawal_support import ETH, PAYEE, Rig, make_rig, open_customer
from twinrail.crypto.domain.nonces import ReservationStatus
from twinrail.crypto.domain.withdrawals import WithdrawalStatus
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.withdrawal_books import network_fees_account_id
from twinrail.crypto.store.tables import nonce_reservations, tx_attempts
from twinrail.ledger.domain.model import TransferStatus
from twinrail.sandbox.anvil import AnvilNode

REPO = Path(__file__).resolve().parents[2]
S = WithdrawalStatus


def _worker(rig: Rig, key_dir: Path, crash_point: str = "none") -> subprocess.Popen[str]:
    database = rig.engine.url.render_as_string(hide_password=False)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.crypto.withdrawal_process",
            database,
            rig.chain.rpc_url,
            rig.token,
            str(key_dir),
            crash_point,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, _ = proc.communicate(timeout=120)
    return proc.returncode, out


def _rows(engine: Engine, table: object) -> list[object]:
    with engine.connect() as conn:
        return list(conn.execute(select(table)).all())  # type: ignore[call-overload]


@pytest.mark.parametrize("crash_point", ["before_sign", "signed", "broadcast"])
def test_a_worker_killed_mid_way_and_restarted_sends_exactly_one_transaction(
    engine: Engine,
    anvil: AnvilNode,
    software_store: KeyStore,
    tmp_path: Path,
    crash_point: str,
) -> None:
    rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
    open_customer(rig.ledger, "kim", {"ETH": 2 * ETH})
    payee_before = rig.client.balance(PAYEE)
    rig.request("w-1", "kim-ETH", ETH)

    code, _ = _finish(_worker(rig, tmp_path / "keys", crash_point))
    assert code == -9  # really killed, mid-way
    reservation = NonceManager(engine).in_flight(anvil.chain_id, rig.hot)
    killed = rig.service.find("w-1")
    assert killed is not None
    if crash_point == "before_sign":
        assert killed.status is S.HELD and reservation == []
        assert rig.client.pending_nonce(rig.hot) == 0
    elif crash_point == "signed":
        # the bytes were stored, the row not yet moved, nothing sent
        assert killed.status is S.HELD
        assert [r.status for r in reservation] == [ReservationStatus.SIGNED]
        assert rig.client.pending_nonce(rig.hot) == 0
    else:
        assert killed.status is S.SIGNED and rig.client.pending_nonce(rig.hot) == 1
    signed_before = reservation[0].tx_hash if reservation else None

    code, out = _finish(_worker(rig, tmp_path / "keys"))
    assert (code, out.split()) == (0, ["started", "done"])

    final = rig.service.find("w-1")
    assert final is not None and final.status is S.FINAL and final.nonce == 0
    if signed_before is not None:
        assert final.tx_hash == signed_before  # the very bytes signed before the kill
    assert rig.client.mined_nonce(rig.hot) == 1  # one transaction on chain, no more
    assert len(_rows(engine, nonce_reservations)) == 1
    assert len(_rows(engine, tx_attempts)) == 1  # never a second signature
    assert rig.client.balance(PAYEE) == payee_before + ETH
    assert rig.ledger.transfer(final.hold_id).status is TransferStatus.POSTED
    assert rig.ledger.balance("kim-ETH").posted == ETH
    fees = rig.ledger.balance(network_fees_account_id(anvil.chain_id, "ETH"))
    assert fees.posted == final.fee


@pytest.mark.postgres
def test_two_worker_processes_pay_out_concurrent_withdrawals_with_consecutive_nonces(
    postgres_database: str,
    anvil: AnvilNode,
    software_store: KeyStore,
    tmp_path: Path,
) -> None:
    from tests.conftest import _truncate_postgres
    from twinrail.platform.db import create_db_engine

    engine = create_db_engine(postgres_database)
    _truncate_postgres(engine)
    try:
        rig = make_rig(engine, anvil.url, anvil.chain_id, software_store, hot_usdc=0)
        owners = ["lea", "max", "ned"]
        for owner in owners:
            open_customer(rig.ledger, owner, {"ETH": 1 * ETH})
        for i in range(8):
            rig.request(f"w-{i}", f"{owners[i % 3]}-ETH", (i + 1) * 10**15)
        payee_before = rig.client.balance(PAYEE)

        workers = [_worker(rig, tmp_path / "keys") for _ in range(2)]
        results = [_finish(w) for w in workers]
        assert [code for code, _ in results] == [0, 0]

        withdrawals = rig.service.recent()
        assert {w.status for w in withdrawals} == {S.FINAL}
        assert sorted(w.nonce or 0 for w in withdrawals) == list(range(8))  # consecutive, no gap
        assert rig.client.mined_nonce(rig.hot) == 8
        assert len(_rows(engine, tx_attempts)) == 8  # one signature per withdrawal
        assert rig.client.balance(PAYEE) == payee_before + sum((i + 1) * 10**15 for i in range(8))
        for owner in owners:
            expected = ETH - sum((i + 1) * 10**15 for i in range(8) if owners[i % 3] == owner)
            assert rig.ledger.balance(f"{owner}-ETH").posted == expected
    finally:
        engine.dispose()
