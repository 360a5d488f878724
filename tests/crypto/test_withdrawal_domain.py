"""The withdrawal domain: its state machine, destination and amount rules (pure, no I/O)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinrail.crypto.domain.chains import Chain, Token
from twinrail.crypto.domain.errors import InvalidAddress, UnknownToken
from twinrail.crypto.domain.withdrawals import (
    TERMINAL,
    InvalidWithdrawal,
    Withdrawal,
    WithdrawalRequest,
    WithdrawalStateConflict,
    WithdrawalStatus,
    require_checksummed,
    to_base_units,
    transition,
    validate_request,
)

S = WithdrawalStatus
PAYEE = "0x90F79bf6EB2c4f870365E785982E1f101E93b906"
USDC = Token("USDC", "0x5FbDB2315678afecb367f032d93F642f64180aa3", 6)
CHAIN = Chain(31337, "anvil", "http://127.0.0.1:8545", tokens=(USDC,))
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _withdrawal(status: WithdrawalStatus = S.HELD) -> Withdrawal:
    return Withdrawal(
        id="w-1", account_id="ann-ETH", chain_id=31337, asset="ETH", token=None, amount=5,
        to_address=PAYEE, status=status, hold_id="h", reference="", created_at=NOW,
        updated_at=NOW,
    )  # fmt: skip


def test_the_happy_path_moves_one_version_and_one_event_at_a_time() -> None:
    w = _withdrawal()
    seen = []
    for status in (S.SIGNED, S.BROADCAST, S.MINED, S.FINAL):
        w, event = transition(w, status, NOW, f"to {status.value}")
        seen.append((event.from_status, event.withdrawal.status, event.stream_version))
    assert seen == [
        (S.HELD, S.SIGNED, 2),
        (S.SIGNED, S.BROADCAST, 3),
        (S.BROADCAST, S.MINED, 4),
        (S.MINED, S.FINAL, 5),
    ]
    assert w.is_terminal and event.payload()["to"] == "final"


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_a_terminal_withdrawal_never_moves_again(terminal: WithdrawalStatus) -> None:
    for status in S:
        with pytest.raises(WithdrawalStateConflict):
            transition(_withdrawal(terminal), status, NOW, "again")


def test_a_signed_withdrawal_can_no_longer_be_refused_or_failed() -> None:
    for status in (S.REFUSED, S.FAILED, S.HELD):
        with pytest.raises(WithdrawalStateConflict):
            transition(_withdrawal(S.SIGNED), status, NOW, "too late")


def test_a_reorg_sends_a_mined_withdrawal_back_to_broadcast() -> None:
    back, event = transition(_withdrawal(S.MINED), S.BROADCAST, NOW, "reorg")
    assert back.status is S.BROADCAST and event.from_status is S.MINED


def test_the_destination_must_carry_its_checksum() -> None:
    assert require_checksummed(f"  {PAYEE}\n") == PAYEE
    for bad in (PAYEE.lower(), "0x" + PAYEE[2:].upper(), PAYEE[:-1] + "7"):
        with pytest.raises(InvalidAddress):
            require_checksummed(bad)
    with pytest.raises(InvalidAddress, match="zero address"):
        require_checksummed("0x" + "0" * 40)


def test_requests_name_a_listed_asset_in_its_canonical_symbol() -> None:
    token = validate_request(CHAIN, WithdrawalRequest("w", "a", 31337, " usdc ", 1, PAYEE))
    assert (token.asset, token.token, token.decimals) == ("USDC", USDC, 6)
    native = validate_request(CHAIN, WithdrawalRequest("w", "a", 31337, "eth", 1, PAYEE))
    assert (native.asset, native.token, native.decimals) == ("ETH", None, 18)
    with pytest.raises(UnknownToken):
        validate_request(CHAIN, WithdrawalRequest("w", "a", 31337, "DAI", 1, PAYEE))
    with pytest.raises(InvalidWithdrawal):
        validate_request(CHAIN, WithdrawalRequest("w", "a", 31337, "ETH", True, PAYEE))


@pytest.mark.parametrize(
    ("text", "decimals", "units"),
    [("1.5", 6, 1_500_000), ("1.500", 2, 150), ("0.000001", 6, 1), ("2", 18, 2 * 10**18)],
)
def test_amounts_in_whole_units_become_base_units(text: str, decimals: int, units: int) -> None:
    assert to_base_units(text, decimals) == units


@pytest.mark.parametrize("text", ["0.0000001", "1e-7", "abc", "0", "-1", "NaN", "Infinity"])
def test_amounts_finer_than_the_asset_or_not_positive_are_refused(text: str) -> None:
    with pytest.raises(InvalidWithdrawal):
        to_base_units(text, 6)


@given(units=st.integers(min_value=1, max_value=10**78 - 1), decimals=st.integers(0, 36))
def test_any_base_amount_round_trips_exactly_through_its_decimal_form(
    units: int, decimals: int
) -> None:
    digits = str(units).rjust(decimals + 1, "0")
    text = f"{digits[:-decimals]}.{digits[-decimals:]}" if decimals else digits
    assert to_base_units(text, decimals) == units
    if decimals < 36:
        with pytest.raises(InvalidWithdrawal, match="more decimals"):
            to_base_units(text + "1" if "." in text else text + ".1", decimals)


def test_a_replay_naming_the_token_by_its_address_is_the_same_request() -> None:
    held = replace(_withdrawal(), asset="USDC", token=USDC.address, amount=7)
    by_address = validate_request(
        CHAIN, WithdrawalRequest("w-1", "ann-ETH", 31337, USDC.address, 7, PAYEE)
    )
    assert held.same_request(by_address)
    other = validate_request(CHAIN, WithdrawalRequest("w-1", "ann-ETH", 31337, "USDC", 8, PAYEE))
    assert not held.same_request(other)
