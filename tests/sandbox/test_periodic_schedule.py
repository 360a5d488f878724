"""Standing order schedules: worked examples on a real calendar, and properties for any schedule."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from twinrail.sandbox.bank.domain.errors import FormatError, ParameterNotSupported
from twinrail.sandbox.bank.domain.periodic import (
    ExecutionRule,
    Frequency,
    Schedule,
    execution_dates,
    parse_schedule,
)

D = dt.date
TODAY = D(2026, 1, 1)  # a Thursday


def first(schedule: Schedule, count: int) -> list[dt.date]:
    return list(itertools.islice(execution_dates(schedule, D(2100, 1, 1)), count))


def schedule(frequency, day=None, rule=None, start=TODAY, end=None) -> Schedule:
    return Schedule(start, end, Frequency(frequency), day, rule and ExecutionRule(rule))


def test_monthly_ultimo_moves_weekends_to_the_following_working_day():
    # 2026-01-31 and 2026-02-28 are Saturdays.
    assert first(schedule("Monthly", 31), 3) == [D(2026, 2, 2), D(2026, 3, 2), D(2026, 3, 31)]


def test_monthly_ultimo_with_the_preceding_rule_runs_on_the_friday_before():
    assert first(schedule("Monthly", 31, "preceding"), 3) == [
        D(2026, 1, 30), D(2026, 2, 27), D(2026, 3, 31),
    ]  # fmt: skip


def test_weekly_runs_on_the_day_of_the_week_named():
    assert first(schedule("Weekly", 1), 3) == [D(2026, 1, 5), D(2026, 1, 12), D(2026, 1, 19)]


def test_every_two_weeks_from_the_first_friday():
    assert first(schedule("EveryTwoWeeks", 5), 3) == [D(2026, 1, 2), D(2026, 1, 16), D(2026, 1, 30)]


def test_quarterly_starts_with_the_first_matching_day_after_the_start():
    # Jan 15 lies before the start; Feb 15 2026 is a Sunday.
    dates = first(schedule("Quarterly", 15, start=D(2026, 1, 20)), 3)
    assert dates == [D(2026, 2, 16), D(2026, 5, 15), D(2026, 8, 17)]


def test_daily_runs_on_working_days_only():
    assert first(schedule("Daily"), 4) == [
        D(2026, 1, 1),
        D(2026, 1, 2),
        D(2026, 1, 5),
        D(2026, 1, 6),
    ]


def test_without_day_of_execution_the_start_day_is_used_and_the_end_date_stops_it():
    dates = list(
        execution_dates(schedule("Monthly", start=D(2026, 1, 7), end=D(2026, 4, 6)), D(2027, 1, 1))
    )
    assert dates == [D(2026, 1, 7), D(2026, 2, 9), D(2026, 3, 9)]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"frequency": "Monthly"}, FormatError),
        ({"startDate": "2026-01-02"}, FormatError),
        ({"startDate": "2025-12-31", "frequency": "Monthly"}, FormatError),
        ({"startDate": "2026-01-02", "frequency": "Fortnightly"}, FormatError),
        ({"startDate": "2026-01-02", "frequency": "MonthlyVariable"}, ParameterNotSupported),
        ({"startDate": "2026-01-02", "frequency": "Monthly", "dayOfExecution": "05"}, FormatError),
        ({"startDate": "2026-01-02", "frequency": "Weekly", "dayOfExecution": "8"}, FormatError),
        ({"startDate": "2026-01-02", "frequency": "Monthly", "dayOfExecution": 5}, FormatError),
        ({"startDate": "2026-01-02", "frequency": "Monthly", "endDate": "2026-01-01"}, FormatError),
        ({"startDate": "2026-01-02", "frequency": "Monthly", "executionRule": "x"}, FormatError),
    ],
)
def test_a_malformed_schedule_is_refused(body, error):
    with pytest.raises(error):
        parse_schedule(body, TODAY)


monthly = st.sampled_from(["Monthly", "EveryTwoMonths", "Quarterly", "SemiAnnual", "Annual"])
weekly = st.sampled_from(["Weekly", "EveryTwoWeeks"])


@st.composite
def schedules(draw):
    start = draw(st.dates(min_value=D(2024, 1, 1), max_value=D(2030, 12, 31)))
    kind = draw(st.sampled_from(["daily", "weekly", "monthly"]))
    if kind == "daily":
        frequency, day = "Daily", None
    elif kind == "weekly":
        frequency, day = draw(weekly), draw(st.none() | st.integers(1, 7))
    else:
        frequency, day = draw(monthly), draw(st.none() | st.integers(1, 31))
    rule = draw(st.sampled_from([None, "following", "preceding"]))
    end = draw(st.none() | st.dates(min_value=start, max_value=start + dt.timedelta(days=800)))
    return schedule(frequency, day, rule, start, end)


@given(schedules())
def test_any_schedule_runs_on_increasing_working_days_within_its_bounds(s):
    dates = first(s, 40)
    assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
    assert all(d.weekday() < 5 for d in dates)
    assert all(d >= s.start_date for d in dates)
    if s.end_date is not None:
        # The following rule may move the last one past a weekend end date, never further.
        assert all(d <= s.end_date + dt.timedelta(days=2) for d in dates)


@given(schedules(), st.integers(0, 400))
def test_executions_up_to_a_day_are_a_prefix_of_all_executions(s, days):
    until = s.start_date + dt.timedelta(days=days)
    upto = list(execution_dates(s, until))
    assert upto == first(s, len(upto)) and all(d <= until for d in upto)
