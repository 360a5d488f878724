"""Transaction reports: filter by booking status and date range, then page through them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from twinrail.sandbox.bank.domain.accounts import BookingStatus, Transaction
from twinrail.sandbox.bank.domain.errors import FormatError, ParameterNotSupported, PeriodInvalid
from twinrail.sandbox.bank.domain.validation import parse_date

__all__ = ["BookingStatusFilter", "ReportQuery", "ReportPage", "parse_report_query", "report_page"]

PAGE_SIZE = 50  # default itemsPerPage
MAX_PAGE_SIZE = 500


class BookingStatusFilter(StrEnum):
    """The bookingStatus query parameter."""

    BOOKED = "booked"
    PENDING = "pending"
    BOTH = "both"
    INFORMATION = "information"
    ALL = "all"


@dataclass(frozen=True)
class ReportQuery:
    """A validated transactions query."""

    booking_status: BookingStatusFilter
    date_from: dt.date | None
    date_to: dt.date | None
    page: int
    page_size: int = PAGE_SIZE


@dataclass(frozen=True)
class ReportPage:
    """One page of a report, with the page numbers the `_links` point at."""

    booked: list[Transaction] | None
    pending: list[Transaction] | None
    page: int
    last_page: int


def parse_report_query(params: dict[str, str], today: dt.date) -> ReportQuery:
    """Validate the query of GET .../transactions; `bookingStatus` is mandatory."""
    raw = params.get("bookingStatus")
    if raw is None:
        raise FormatError("bookingStatus is required", location="query")
    try:
        status = BookingStatusFilter(raw)
    except ValueError:
        raise FormatError(f"bookingStatus {raw!r} is not defined", location="query") from None
    if status in {BookingStatusFilter.INFORMATION, BookingStatusFilter.ALL}:
        raise ParameterNotSupported(f"bookingStatus {raw} is not supported", location="query")
    for unsupported in ("entryReferenceFrom", "deltaList"):
        if unsupported in params:
            raise ParameterNotSupported(f"{unsupported} is not supported", location="query")
    date_from = _optional_date(params, "dateFrom")
    date_to = _optional_date(params, "dateTo")
    if date_from and date_to and date_from > date_to:
        raise PeriodInvalid("dateFrom lies after dateTo", location="query")
    if date_from and date_from > today:
        raise PeriodInvalid("dateFrom lies in the future", location="query")
    page = _bounded_int(params, "pageIndex", 0, 0, 10**6)
    size = _bounded_int(params, "itemsPerPage", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return ReportQuery(status, date_from, date_to, page, size)


def _bounded_int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text is None:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise FormatError(f"{name} must be an integer from {low} to {high}", location="query")
    return int(text)


def _optional_date(params: dict[str, str], name: str) -> dt.date | None:
    value = params.get(name)
    return parse_date(value, name, location="query") if value is not None else None


def report_page(transactions: list[Transaction], query: ReportQuery) -> ReportPage:
    """The requested page of the transactions that match `query`, newest first.

    Booked entries are filtered by booking date and pending ones by value date; booked and
    pending share one page numbering so that `next` walks both lists together.
    """

    def in_range(day: dt.date) -> bool:
        return (query.date_from is None or day >= query.date_from) and (
            query.date_to is None or day <= query.date_to
        )

    booked = [
        t
        for t in transactions
        if t.status is BookingStatus.BOOKED and in_range(t.booking_date or t.value_date)
    ]
    pending = [
        t for t in transactions if t.status is BookingStatus.PENDING and in_range(t.value_date)
    ]
    booked.sort(key=lambda t: (t.booking_date or t.value_date, t.transaction_id), reverse=True)
    pending.sort(key=lambda t: (t.value_date, t.transaction_id), reverse=True)
    want_booked = query.booking_status in {BookingStatusFilter.BOOKED, BookingStatusFilter.BOTH}
    want_pending = query.booking_status in {BookingStatusFilter.PENDING, BookingStatusFilter.BOTH}
    size = max(len(booked) if want_booked else 0, len(pending) if want_pending else 0)
    last_page = max(0, (size - 1) // query.page_size)
    start = query.page * query.page_size
    window = slice(start, start + query.page_size)
    return ReportPage(
        booked[window] if want_booked else None,
        pending[window] if want_pending else None,
        query.page,
        last_page,
    )
