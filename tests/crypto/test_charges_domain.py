"""The charge state machine: sums of partial payments, the expiry boundary, amounts, URIs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinrail.crypto.domain.charges import (
    CHARGE_TOPICS,
    Charge,
    ChargePayment,
    ChargeStatus,
    charge_status,
    parse_amount,
    payment_uri,
    status_event,
)
from twinrail.crypto.domain.errors import InvalidAmount

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
EXPIRES = T0 + dt.timedelta(minutes=15)
TICK = dt.timedelta(microseconds=1)


def pay(amount: int, at: dt.datetime = T0, *, confirmed: bool = True, n: int = 0) -> ChargePayment:
    return ChargePayment(f"0x{n:064x}", n, amount, at, confirmed)


def test_a_charge_with_no_payment_is_new_until_its_expiry_and_expired_from_then_on() -> None:
    assert charge_status(100, EXPIRES, [], EXPIRES - TICK) is ChargeStatus.NEW
    assert charge_status(100, EXPIRES, [], EXPIRES) is ChargeStatus.EXPIRED


def test_a_payment_seen_but_not_confirmed_makes_it_pending() -> None:
    assert charge_status(100, EXPIRES, [pay(100, confirmed=False)], T0) is ChargeStatus.PENDING
    # still pending after the expiry while a payment made in time waits for its confirmations
    late_now = EXPIRES + dt.timedelta(hours=1)
    assert charge_status(100, EXPIRES, [pay(100, confirmed=False)], late_now) is (
        ChargeStatus.PENDING
    )


def test_exact_confirmed_payment_completes_it() -> None:
    assert charge_status(100, EXPIRES, [pay(100)], T0) is ChargeStatus.COMPLETED


def test_too_much_is_overpaid_and_too_little_is_underpaid_once_expired() -> None:
    assert charge_status(100, EXPIRES, [pay(101)], T0) is ChargeStatus.OVERPAID
    assert charge_status(100, EXPIRES, [pay(99)], T0) is ChargeStatus.PENDING
    assert charge_status(100, EXPIRES, [pay(99)], EXPIRES) is ChargeStatus.UNDERPAID


def test_a_payment_at_the_expiry_instant_is_late_one_just_before_is_on_time() -> None:
    assert charge_status(100, EXPIRES, [pay(100, EXPIRES - TICK)], EXPIRES) is (
        ChargeStatus.COMPLETED
    )
    assert charge_status(100, EXPIRES, [pay(100, EXPIRES)], EXPIRES) is ChargeStatus.DELAYED


def test_the_rest_paid_late_makes_a_partly_paid_charge_delayed() -> None:
    payments = [pay(60, n=1), pay(40, EXPIRES + TICK, n=2)]
    assert charge_status(100, EXPIRES, payments, EXPIRES + TICK) is ChargeStatus.DELAYED


def test_a_late_payment_on_top_of_a_full_one_is_an_overpayment() -> None:
    payments = [pay(100, n=1), pay(5, EXPIRES, n=2)]
    assert charge_status(100, EXPIRES, payments, EXPIRES) is ChargeStatus.OVERPAID


amounts = st.integers(min_value=1, max_value=10**30)
splits = st.lists(st.integers(min_value=1, max_value=10**29), min_size=1, max_size=8)


@given(parts=splits, extra=st.integers(min_value=-(10**29), max_value=10**29), data=st.data())
def test_only_the_sum_of_confirmed_on_time_payments_matters_not_their_split_or_order(
    parts: list[int], extra: int, data: st.DataObject
) -> None:
    total = sum(parts)
    amount = max(1, total + extra)
    shuffled = data.draw(st.permutations(parts))
    payments = [pay(p, T0 + dt.timedelta(seconds=i), n=i) for i, p in enumerate(shuffled)]
    one = [pay(total)]
    now = data.draw(st.sampled_from([T0, EXPIRES - TICK, EXPIRES, EXPIRES + dt.timedelta(days=1)]))
    status = charge_status(amount, EXPIRES, payments, now)
    assert status is charge_status(amount, EXPIRES, one, now)
    expected = {
        total == amount: ChargeStatus.COMPLETED,
        total > amount: ChargeStatus.OVERPAID,
        total < amount: ChargeStatus.UNDERPAID if now >= EXPIRES else ChargeStatus.PENDING,
    }[True]
    assert status is expected


@given(amount=amounts, paid=amounts, offset_us=st.integers(min_value=-(10**9), max_value=10**9))
def test_a_payment_counts_as_on_time_exactly_when_seen_before_the_expiry(
    amount: int, paid: int, offset_us: int
) -> None:
    seen = EXPIRES + dt.timedelta(microseconds=offset_us)
    now = max(seen, EXPIRES)
    status = charge_status(amount, EXPIRES, [pay(paid, seen)], now)
    if seen < EXPIRES:
        assert status is not ChargeStatus.DELAYED
    else:
        assert status is ChargeStatus.DELAYED


@given(amount=amounts, parts=splits, now_s=st.integers(min_value=0, max_value=3600))
def test_an_unconfirmed_on_time_payment_always_leaves_the_charge_pending(
    amount: int, parts: list[int], now_s: int
) -> None:
    payments = [pay(p, T0, n=i) for i, p in enumerate(parts)]
    payments[0] = pay(parts[0], T0, confirmed=False)
    now = T0 + dt.timedelta(seconds=now_s)
    assert charge_status(amount, EXPIRES, payments, now) is ChargeStatus.PENDING


@pytest.mark.parametrize(
    ("text", "decimals", "minor"),
    [("12.5", 6, 12_500_000), ("0.000001", 6, 1), ("1", 18, 10**18), ("3.10", 2, 310), (7, 6, 7)],
)
def test_decimal_amounts_become_minor_units(text: str | int, decimals: int, minor: int) -> None:
    assert parse_amount(text, decimals) == minor


@pytest.mark.parametrize(
    ("text", "decimals"),
    [("0.0000001", 6), ("1.001", 2), ("0", 6), ("-1", 6), ("1e3", 6), ("", 6), (" 1", 6), (0, 6)],
)
def test_amounts_finer_than_the_asset_or_not_positive_are_refused(
    text: str | int, decimals: int
) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(text, decimals)
    assert caught.value.code == "crypto.invalid_amount"


@given(whole=st.integers(min_value=0, max_value=10**12), frac=st.integers(0, 10**6 - 1))
def test_parsing_a_six_decimal_amount_is_exact(whole: int, frac: int) -> None:
    if whole == 0 and frac == 0:
        return
    assert parse_amount(f"{whole}.{frac:06d}", 6) == whole * 10**6 + frac


def test_payment_uris_follow_eip_681() -> None:
    addr = "0x" + "Ab" * 20
    token = "0x" + "cD" * 20
    assert payment_uri(31337, addr, 25, None) == f"ethereum:{addr}@31337?value=25"
    assert (
        payment_uri(1, addr, 10**6, token)
        == f"ethereum:{token}@1/transfer?address={addr}&uint256=1000000"
    )


def test_each_status_change_has_its_own_topic() -> None:
    charge = Charge(
        "ch_1", 1, "USDC", None, 1, "0x" + "11" * 20, "acc", ChargeStatus.DELAYED, 1, T0,
        EXPIRES, T0, version=3,
    )  # fmt: skip
    assert status_event(charge, ChargeStatus.EXPIRED).topic == "crypto.charge_delayed"
    assert status_event(charge, None).topic == "crypto.charge_created"
    assert set(CHARGE_TOPICS) == {
        "created", "new", "pending", "completed", "expired", "underpaid", "overpaid", "delayed"
    }  # fmt: skip
    event = status_event(charge, ChargeStatus.EXPIRED)
    assert event.stream_version == 3
    assert event.payload()["previous_status"] == "expired"
