"""Property tests: every windowed rule counts a movement until it is exactly the window old."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from tests.compliance.test_rules import NOW, facts, fired
from twinrail.compliance.domain.rules import (
    CustomerHistory,
    Direction,
    DormantReactivation,
    PastMovement,
    RapidInOut,
    RuleParams,
    Structuring,
    Velocity,
)

TICK = dt.timedelta(microseconds=1)
windows = st.integers(min_value=1, max_value=90 * 86_400).map(lambda s: dt.timedelta(seconds=s))
offsets = st.integers(min_value=-3, max_value=3)


def fires(
    params: RuleParams, eur: int, history: CustomerHistory, order: str = "bank_payment"
) -> bool:
    return fired(params, facts(eur, order), history) is not None


def past(age: dt.timedelta, eur: int, direction: Direction = Direction.OUT) -> PastMovement:
    return PastMovement(NOW - age, eur, direction, "bank_payment")


@given(window=windows, offset=offsets)
def test_velocity_counts_a_movement_until_it_is_exactly_the_window_old(
    window: dt.timedelta, offset: int
) -> None:
    age = window + offset * TICK
    history = CustomerHistory((past(age, 1),))
    assert fires(Velocity(window, max_count=1), 1, history) is (age < window)


@given(window=windows, offset=offsets, count=st.integers(min_value=2, max_value=6))
def test_structuring_counts_the_oldest_movement_only_inside_the_window(
    window: dt.timedelta, offset: int, count: int
) -> None:
    age = window + offset * TICK
    inside = tuple(past(window / 2, 9_500_00) for _ in range(count - 2))
    history = CustomerHistory((*inside, past(age, 9_500_00)))
    rule = Structuring(10_000_00, 1_000_00, window, count)
    assert fires(rule, 9_500_00, history) is (age < window)


@given(window=windows, offset=offsets)
def test_rapid_in_and_out_sees_an_inflow_until_it_is_exactly_the_window_old(
    window: dt.timedelta, offset: int
) -> None:
    age = window + offset * TICK
    history = CustomerHistory((past(age, 1_000_00, Direction.IN),))
    assert fires(RapidInOut(window, 1_000_00, 100), 1_000_00, history) is (age < window)


@given(window=windows, offset=offsets)
def test_dormancy_starts_exactly_when_the_silence_reaches_its_length(
    window: dt.timedelta, offset: int
) -> None:
    silence = window + offset * TICK
    history = CustomerHistory(last_activity_at=NOW - silence)
    assert fires(DormantReactivation(window, 0), 1, history) is (silence >= window)


@given(
    amounts=st.lists(st.integers(min_value=1, max_value=10**9), max_size=12),
    limit=st.integers(min_value=0, max_value=10**10),
    eur=st.integers(min_value=1, max_value=10**9),
)
def test_velocity_by_sum_fires_exactly_when_the_total_goes_above_the_limit(
    amounts: list[int], limit: int, eur: int
) -> None:
    history = CustomerHistory(tuple(past(dt.timedelta(minutes=1), a) for a in amounts))
    rule = Velocity(dt.timedelta(hours=1), max_eur=limit)
    assert fires(rule, eur, history) is (sum(amounts) + eur > limit)


@given(
    inflow=st.integers(min_value=1, max_value=10**9),
    out=st.integers(min_value=1, max_value=10**9),
    share=st.integers(min_value=1, max_value=100),
)
def test_rapid_in_and_out_fires_exactly_at_the_share_of_the_inflow(
    inflow: int, out: int, share: int
) -> None:
    history = CustomerHistory((past(dt.timedelta(minutes=1), inflow, Direction.IN),))
    rule = RapidInOut(dt.timedelta(hours=1), 0, share)
    assert fires(rule, out, history) is (out * 100 >= inflow * share)
