"""Periodic payments (standing orders): the schedule a PSU authorises once and the bank executes.

Schedule rules (NextGenPSD2 1.3.11 periodicPaymentInitiation_json and the implementation
guidelines):
- executions start on or after `startDate` and none is due after `endDate` (open-ended if absent);
- `frequency` is one of ISO 20022 EventFrequency7Code; `MonthlyVariable` (with
  monthsOfExecution) is not offered by this bank (PARAMETER_NOT_SUPPORTED);
- `dayOfExecution` is the day of the month ("31" is ultimo, and a day the month lacks means its
  last day) for monthly-based frequencies, the day of the week (1 Monday .. 7 Sunday) for weekly
  ones, unused for Daily; absent, it is startDate's day;
- `executionRule` moves a date on a Saturday or Sunday to the `following` (the default) or the
  `preceding` working day; a preceding day before startDate is not moved back (the bank would not
  execute before the start); a Daily order simply skips weekends.

Lifecycle: RCVD -> (SCA) ACTC -> ... executions ... -> ACSC after the last one; CANC when
cancelled (at once before SCA, with a cancellation SCA once running); RJCT when the SCA fails.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from twinrail.sandbox.bank.domain.errors import FormatError, ParameterNotSupported, StatusInvalid
from twinrail.sandbox.bank.domain.payments import (
    PaymentProduct,
    PaymentRequest,
    RejectReason,
    TransactionStatus,
    parse_payment_request,
)
from twinrail.sandbox.bank.domain.validation import parse_date

__all__ = [
    "Frequency",
    "ExecutionRule",
    "Schedule",
    "PeriodicPayment",
    "parse_schedule",
    "parse_periodic_request",
    "execution_dates",
]


class Frequency(StrEnum):
    """The frequencyCode values this bank executes."""

    DAILY = "Daily"
    WEEKLY = "Weekly"
    EVERY_TWO_WEEKS = "EveryTwoWeeks"
    MONTHLY = "Monthly"
    EVERY_TWO_MONTHS = "EveryTwoMonths"
    QUARTERLY = "Quarterly"
    SEMI_ANNUAL = "SemiAnnual"
    ANNUAL = "Annual"

    @property
    def months(self) -> int:
        """The step in months (0 for day- and week-based frequencies)."""
        return _MONTHS.get(self, 0)

    @property
    def days(self) -> int:
        """The step in days (0 for month-based frequencies)."""
        return _DAYS.get(self, 0)


_MONTHS = {
    Frequency.MONTHLY: 1,
    Frequency.EVERY_TWO_MONTHS: 2,
    Frequency.QUARTERLY: 3,
    Frequency.SEMI_ANNUAL: 6,
    Frequency.ANNUAL: 12,
}
_DAYS = {Frequency.DAILY: 1, Frequency.WEEKLY: 7, Frequency.EVERY_TWO_WEEKS: 14}


class ExecutionRule(StrEnum):
    """Where a date on a weekend goes."""

    FOLLOWING = "following"
    PRECEDING = "preceding"


@dataclass(frozen=True)
class Schedule:
    """When a standing order executes."""

    start_date: dt.date
    end_date: dt.date | None
    frequency: Frequency
    day_of_execution: int | None
    execution_rule: ExecutionRule | None

    def to_json(self) -> dict[str, Any]:
        """The schedule fields of periodicPaymentInitiationWithStatusResponse."""
        out: dict[str, Any] = {"startDate": self.start_date.isoformat()}
        if self.end_date is not None:
            out["endDate"] = self.end_date.isoformat()
        if self.execution_rule is not None:
            out["executionRule"] = self.execution_rule.value
        out["frequency"] = self.frequency.value
        if self.day_of_execution is not None:
            out["dayOfExecution"] = str(self.day_of_execution)
        return out


def parse_schedule(obj: dict[str, Any], today: dt.date) -> Schedule:
    """The schedule part of a periodic payment body; FORMAT_ERROR for anything malformed."""
    for key in ("startDate", "frequency"):
        if key not in obj:
            raise FormatError(f"{key} is required")
    start = parse_date(obj["startDate"], "startDate")
    if start < today:
        raise FormatError("startDate lies in the past")
    end = parse_date(obj["endDate"], "endDate") if obj.get("endDate") is not None else None
    if end is not None and end < start:
        raise FormatError("endDate lies before startDate")
    raw_frequency = obj["frequency"]
    if raw_frequency == "MonthlyVariable":
        raise ParameterNotSupported("frequency MonthlyVariable is not offered by this bank")
    try:
        frequency = Frequency(raw_frequency)
    except ValueError:
        raise FormatError("frequency is not an EventFrequency7Code") from None
    return Schedule(
        start, end, frequency, _day_of_execution(obj.get("dayOfExecution"), frequency),
        _execution_rule(obj.get("executionRule")),
    )  # fmt: skip


def _day_of_execution(value: Any, frequency: Frequency) -> int | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isdigit() or value.startswith("0"):
        raise FormatError("dayOfExecution must be a day number without leading zeroes")
    day = int(value)
    limit = 7 if frequency.days in (7, 14) else 31
    if not 1 <= day <= limit:
        raise FormatError(f"dayOfExecution must be from 1 to {limit} for {frequency.value}")
    return day


def _execution_rule(value: Any) -> ExecutionRule | None:
    if value is None:
        return None
    try:
        return ExecutionRule(value)
    except ValueError:
        raise FormatError("executionRule must be following or preceding") from None


def parse_periodic_request(
    body: Any, product: PaymentProduct, today: dt.date
) -> tuple[PaymentRequest, Schedule]:
    """Validate a periodicPaymentInitiation_json body."""
    request = parse_payment_request(body, product)
    assert isinstance(body, dict)  # parse_payment_request refused anything else
    return request, parse_schedule(body, today)


def _month_day(year: int, month: int, day: int) -> dt.date:
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _add_months(year: int, month: int, count: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + count
    return index // 12, index % 12 + 1


def _nominal_dates(schedule: Schedule) -> Iterator[dt.date]:
    start, frequency = schedule.start_date, schedule.frequency
    if frequency.days:
        first = start
        if frequency.days > 1 and schedule.day_of_execution is not None:
            first = start + dt.timedelta(days=(schedule.day_of_execution - 1 - start.weekday()) % 7)
        step = dt.timedelta(days=frequency.days)
        while True:
            yield first
            first += step
    day = schedule.day_of_execution or start.day
    year, month = start.year, start.month
    if _month_day(year, month, day) < start:
        year, month = _add_months(year, month, 1)
    n = 0
    while True:
        y, m = _add_months(year, month, n * frequency.months)
        yield _month_day(y, m, day)
        n += 1


def _working_day(day: dt.date, rule: ExecutionRule, start: dt.date) -> dt.date:
    if day.weekday() < 5:
        return day
    if rule is ExecutionRule.PRECEDING:
        moved = day - dt.timedelta(days=day.weekday() - 4)
        if moved >= start:
            return moved
    return day + dt.timedelta(days=7 - day.weekday())


def execution_dates(schedule: Schedule, until: dt.date) -> Iterator[dt.date]:
    """Every execution date up to `until` (inclusive), in order."""
    rule = schedule.execution_rule or ExecutionRule.FOLLOWING
    for nominal in _nominal_dates(schedule):
        if schedule.end_date is not None and nominal > schedule.end_date:
            return
        if schedule.frequency is Frequency.DAILY and nominal.weekday() >= 5:
            continue  # a daily order runs on working days; moving weekends would repeat Mondays
        day = _working_day(nominal, rule, schedule.start_date)
        if day > until:
            return
        yield day


@dataclass(frozen=True)
class PeriodicPayment:
    """A standing order of one TPP: what to pay, when, and how far it has run."""

    payment_id: str
    tpp_id: str
    request: PaymentRequest
    schedule: Schedule
    debtor_account_id: str
    status: TransactionStatus
    reject_reason: RejectReason | None
    created_at: dt.datetime
    updated_at: dt.datetime
    executions: int = 0  # executions done (or skipped for lack of funds) so far
    last_execution: dt.date | None = None

    def _require(self, *allowed: TransactionStatus) -> None:
        if self.status not in allowed:
            raise StatusInvalid(f"periodic payment is {self.status.value}")

    def accept(self, now: dt.datetime) -> PeriodicPayment:
        """ACTC after the PSU's SCA: the bank will execute it on its schedule."""
        self._require(TransactionStatus.RCVD)
        return replace(self, status=TransactionStatus.ACTC, updated_at=now)

    def reject(self, reason: RejectReason, now: dt.datetime) -> PeriodicPayment:
        """RJCT for `reason` (an SCA that failed or never happened)."""
        self._require(TransactionStatus.RCVD)
        return replace(self, status=TransactionStatus.RJCT, reject_reason=reason, updated_at=now)

    def cancel(self, now: dt.datetime) -> PeriodicPayment:
        """CANC: no further executions."""
        self._require(TransactionStatus.RCVD, TransactionStatus.ACTC)
        return replace(self, status=TransactionStatus.CANC, updated_at=now)

    def due(self, today: dt.date) -> list[dt.date]:
        """The execution dates up to `today` not executed yet (none unless ACTC)."""
        if self.status is not TransactionStatus.ACTC:
            return []
        dates = list(execution_dates(self.schedule, today))
        return dates[self.executions :]

    def executed(self, day: dt.date, today: dt.date, now: dt.datetime) -> PeriodicPayment:
        """The order after its execution on `day`; ACSC once the last one is done."""
        done = replace(self, executions=self.executions + 1, last_execution=day, updated_at=now)
        end = self.schedule.end_date
        # A week past the end covers a last date that the execution rule moved beyond it.
        if end is not None and not done.due(max(today, end + dt.timedelta(days=7))):
            return replace(done, status=self.request.product.settled_status)
        return done
