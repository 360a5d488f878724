"""The rate limiter's window arithmetic: never more than the limit in any window, never a refusal
below it, and a Retry-After that is exactly enough."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from twinrail.sandbox.bank.http.faults import RateLimiter

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


class SteppedClock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@given(
    limit=st.integers(1, 5),
    window=st.integers(1, 30),
    gaps=st.lists(st.floats(min_value=0, max_value=20, allow_nan=False), max_size=60),
)
def test_no_window_ever_holds_more_than_the_limit_and_refusals_are_justified(limit, window, gaps):
    clock = SteppedClock()
    limiter = RateLimiter(limit, window, clock)
    accepted: list[float] = []
    for gap in gaps:
        clock.now += dt.timedelta(seconds=gap)
        t = (clock.now - T0).total_seconds()
        recent = [a for a in accepted if a > t - window]
        wait = limiter.retry_after("tpp")
        if wait is None:
            accepted.append(t)
            assert len(recent) + 1 <= limit
        else:
            assert len(recent) == limit
            # Waiting Retry-After seconds frees a slot: the oldest of the window has left it.
            assert min(recent) + window <= t + wait


def test_each_certificate_has_its_own_allowance():
    clock = SteppedClock()
    limiter = RateLimiter(1, 60, clock)
    assert limiter.retry_after("a") is None
    assert limiter.retry_after("b") is None
    assert limiter.retry_after("a") == 60
    clock.now += dt.timedelta(seconds=59.5)
    assert limiter.retry_after("a") == 1
    clock.now += dt.timedelta(seconds=0.5)
    assert limiter.retry_after("a") is None
