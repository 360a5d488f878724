"""Rolling-window limit checks over a customer's approved movements, in EUR cents.

A window of length W ending at `now` holds the movements with `now - W < at <= now`: a movement
exactly 24 hours old no longer counts against the daily limit. A limit is breached only when the
new total goes strictly above it; reaching it exactly is allowed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from twinrail.compliance.domain.kyc import TierLimits

__all__ = [
    "DAY",
    "THIRTY_DAYS",
    "Movement",
    "LimitBreach",
    "window_total",
    "check_limits",
    "format_eur",
]

DAY = dt.timedelta(days=1)
THIRTY_DAYS = dt.timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Movement:
    """A movement the engine approved earlier, at its EUR value then."""

    at: dt.datetime
    eur_cents: int


@dataclass(frozen=True, slots=True)
class LimitBreach:
    """Which limit a movement would break, by how much the total would reach."""

    code: str
    limit: int
    total: int

    @property
    def detail(self) -> str:
        return f"{format_eur(self.total)} EUR would exceed {format_eur(self.limit)} EUR"


def format_eur(cents: int) -> str:
    """Cents as a decimal EUR string (`12345` -> `123.45`)."""
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def window_total(history: Iterable[Movement], now: dt.datetime, window: dt.timedelta) -> int:
    """The EUR cents of the movements inside the window ending at `now`."""
    start = now - window
    return sum(m.eur_cents for m in history if start < m.at <= now)


def check_limits(
    eur_cents: int, history: Iterable[Movement], now: dt.datetime, limits: TierLimits
) -> list[LimitBreach]:
    """Every limit the new movement would break, given the approved history."""
    past = list(history)
    breaches = []
    if eur_cents > limits.per_transaction:
        breaches.append(
            LimitBreach("limits.per_transaction_exceeded", limits.per_transaction, eur_cents)
        )
    day = window_total(past, now, DAY) + eur_cents
    if day > limits.per_day:
        breaches.append(LimitBreach("limits.daily_exceeded", limits.per_day, day))
    month = window_total(past, now, THIRTY_DAYS) + eur_cents
    if month > limits.per_30_days:
        breaches.append(LimitBreach("limits.rolling_30_days_exceeded", limits.per_30_days, month))
    return breaches
