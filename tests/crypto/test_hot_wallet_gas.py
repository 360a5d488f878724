"""A hot wallet without the ETH for gas, on a real anvil: the withdrawal waits with the shortfall
as its reason (nothing signed, no nonce taken), one `crypto.hot_wallet_underfunded` alert is
published, and it pays out normally once the wallet is funded."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select

from tests.crypto.withdrawal_support import (
    ETH,
    PAYEE,
    USDC,
    Rig,
    make_rig,
    open_customer,
    processor_for,
)
from twinrail.audit.store.tables import audit_entries
from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.nonces import ReservationStatus
from twinrail.crypto.domain.withdrawals import Withdrawal, WithdrawalStatus, note_underfunded
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.store.tables import nonce_reservations
from twinrail.ledger.domain.model import TransferStatus
from twinrail.platform.outbox import outbox
from twinrail.sandbox.anvil import AnvilNode

S = WithdrawalStatus
TOPIC = "crypto.hot_wallet_underfunded"


class _Crash(Exception):
    """Stands in for the process dying at a probe point."""


def _alerts(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(outbox.c.payload).where(outbox.c.topic == TOPIC)).all()
    return [dict(r.payload) for r in rows]


def _find(rig: Rig, wid: str) -> Withdrawal:
    found = rig.service.find(wid)
    assert found is not None
    return found


def _set_balance(rig: Rig, wei: int) -> None:
    rig.client.request("anvil_setBalance", [rig.hot, hex(wei)])


@pytest.fixture
def rig(engine: Engine, anvil: AnvilNode, software_store: KeyStore) -> Rig:
    return make_rig(engine, anvil.url, anvil.chain_id, software_store)


def _check_alert(rig: Rig, w: Withdrawal, available: int) -> int:
    """The single alert matches the reason on the withdrawal; the wei needed."""
    alerts = _alerts(rig.engine)
    assert len(alerts) == 1
    alert = alerts[0]
    assert alert["chain_id"] == rig.chain.chain_id and alert["address"] == rig.hot
    assert alert["withdrawal_id"] == w.id and int(alert["available"]) == available
    needed = int(alert["needed"])
    assert needed > available
    assert w.reason == f"hot wallet lacks gas: needs {needed} wei, has {available}"
    return needed


def test_an_eth_withdrawal_waits_for_gas_money_alerts_once_then_pays_out(rig: Rig) -> None:
    open_customer(rig.ledger, "ida", {"ETH": ETH})
    amount = ETH // 2
    available = amount + 1_000  # the amount itself, but not the gas
    _set_balance(rig, available)
    processor = processor_for(rig)
    rig.request("w-ida", "ida-ETH", amount)

    processor.run_once()
    processor.run_once()  # a second round: no second alert
    waiting = _find(rig, "w-ida")
    assert waiting.status is S.HELD and waiting.nonce is None and waiting.tx_hash is None
    needed = _check_alert(rig, waiting, available)
    assert needed > amount  # value plus gas limit × max fee per gas
    with rig.engine.connect() as conn:
        assert conn.execute(select(nonce_reservations)).all() == []  # no nonce taken
        audited = conn.execute(
            select(audit_entries.c.action).where(
                audit_entries.c.subject == "crypto_withdrawal:w-ida"
            )
        ).all()
    assert [a.action for a in audited].count(TOPIC) == 1
    assert rig.ledger.transfer(waiting.hold_id).status is TransferStatus.PENDING

    _set_balance(rig, ETH)
    payee_before = rig.client.balance(PAYEE)
    processor.run_once()
    rig.mine(2)
    processor.run_once()
    final = _find(rig, "w-ida")
    assert final.status is S.FINAL and final.nonce == 0
    assert rig.client.balance(PAYEE) == payee_before + amount
    assert rig.ledger.transfer(final.hold_id).status is TransferStatus.POSTED
    assert len(_alerts(rig.engine)) == 1


def test_a_token_withdrawal_from_a_hot_wallet_without_eth_waits_with_the_reason(rig: Rig) -> None:
    open_customer(rig.ledger, "jo", {"USDC": 50 * USDC})
    _set_balance(rig, 0)
    processor = processor_for(rig)
    rig.request("w-jo", "jo-USDC", 20 * USDC, asset="USDC")
    processor.run_once()
    waiting = _find(rig, "w-jo")
    assert waiting.status is S.HELD
    _check_alert(rig, waiting, 0)

    _set_balance(rig, ETH)
    processor.run_once()
    rig.mine(2)
    processor.run_once()
    assert _find(rig, "w-jo").status is S.FINAL
    balance = rig.client.call(rig.token, erc20.encode_balance_of(PAYEE))
    assert erc20.decode_uint(balance) == 20 * USDC


def test_a_signed_withdrawal_whose_gas_money_went_meanwhile_waits_then_sends_the_same_bytes(
    rig: Rig,
) -> None:
    open_customer(rig.ledger, "kim", {"ETH": ETH})

    def crash_after_signing(point: str, _w: Withdrawal) -> None:
        if point == "signed":
            raise _Crash

    rig.request("w-kim", "kim-ETH", ETH // 4)
    with pytest.raises(_Crash):
        processor_for(rig, probe=crash_after_signing).run_once()
    (signed,) = NonceManager(rig.engine).in_flight(rig.chain.chain_id, rig.hot)
    assert signed.status is ReservationStatus.SIGNED

    _set_balance(rig, ETH // 4)  # the value, nothing for gas
    processor = processor_for(rig)
    processor.run_once()
    processor.run_once()
    waiting = _find(rig, "w-kim")
    assert waiting.status is S.SIGNED and waiting.tx_hash == signed.tx_hash
    _check_alert(rig, waiting, ETH // 4)

    _set_balance(rig, ETH)
    processor.run_once()
    rig.mine(2)
    processor.run_once()
    final = _find(rig, "w-kim")
    assert final.status is S.FINAL and final.tx_hash == signed.tx_hash  # the same bytes
    assert len(_alerts(rig.engine)) == 1


def test_the_shortfall_is_noted_on_every_round_but_alerted_only_the_first_time() -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    w = Withdrawal(
        "w-1", "acc", 1, "ETH", None, 5, PAYEE, S.HELD, "hold", "", now, now, reason="requested"
    )
    noted, alert = note_underfunded(w, PAYEE, 100, 7, now)
    assert (noted.status, noted.version) == (S.HELD, 2)
    assert noted.reason == "hot wallet lacks gas: needs 100 wei, has 7"
    assert alert is not None and alert.topic == TOPIC
    assert alert.payload()["needed"] == "100" and alert.payload()["available"] == "7"
    assert (alert.stream_id, alert.stream_version) == ("crypto-withdrawal-w-1", 2)
    again, second = note_underfunded(noted, PAYEE, 120, 7, now)
    assert second is None and again.reason == "hot wallet lacks gas: needs 120 wei, has 7"
