"""The bank's pure rules, without HTTP: amounts, IBANs, consent parsing, report pages."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from twinrail.sandbox.bank.domain.accounts import (
    Account,
    BookingStatus,
    Transaction,
    balances_of,
    format_amount,
)
from twinrail.sandbox.bank.domain.consents import (
    AccessKind,
    ConsentAccess,
    parse_consent_request,
)
from twinrail.sandbox.bank.domain.errors import FormatError
from twinrail.sandbox.bank.domain.reports import BookingStatusFilter, ReportQuery, report_page
from twinrail.sandbox.bank.domain.validation import iban_checksum_ok

TODAY = dt.date(2026, 6, 15)


@pytest.mark.parametrize(
    "minor, text", [(0, "0.00"), (5, "0.05"), (-1230, "-12.30"), (123456789, "1234567.89")]
)
def test_amounts_are_rendered_exactly(minor, text):
    assert format_amount(minor) == text


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_the_iban_check_agrees_with_schwifty(account_number):
    iban = str(IBAN.generate("DE", "10020030", str(account_number)))
    assert iban_checksum_ok(iban)
    tampered = iban[:-1] + str((int(iban[-1]) + 1) % 10)
    assert not iban_checksum_ok(tampered)


def test_balances_and_transactions_imply_account_access():
    access = ConsentAccess(balances=("DE89370400440532013000",))
    assert access.ibans(AccessKind.ACCOUNTS) == {"DE89370400440532013000"}
    assert access.ibans(AccessKind.TRANSACTIONS) == frozenset()


def test_a_consent_may_not_mix_named_accounts_and_global_access():
    body = {
        "access": {"accounts": [{"iban": "DE89370400440532013000"}], "allPsd2": "allAccounts"},
        "recurringIndicator": True, "validUntil": "2026-07-01", "frequencyPerDay": 4,
    }  # fmt: skip
    with pytest.raises(FormatError):
        parse_consent_request(body, TODAY)


def _tx(n: int, status: BookingStatus, day: dt.date, amount: int = -100) -> Transaction:
    return Transaction(
        f"t{n:03d}", "a", status, day if status is BookingStatus.BOOKED else None, day, amount,
        "X", "DE89370400440532013000", "r", f"e{n}",
    )  # fmt: skip


def test_report_dates_are_inclusive_and_pending_ones_are_filtered_by_value_date():
    items = [
        _tx(1, BookingStatus.BOOKED, dt.date(2026, 6, 1)),
        _tx(2, BookingStatus.BOOKED, dt.date(2026, 6, 10)),
        _tx(3, BookingStatus.BOOKED, dt.date(2026, 6, 11)),
        _tx(4, BookingStatus.PENDING, dt.date(2026, 6, 10)),
    ]
    query = ReportQuery(BookingStatusFilter.BOTH, dt.date(2026, 6, 1), dt.date(2026, 6, 10), 0)
    page = report_page(items, query)
    assert [t.transaction_id for t in page.booked or []] == ["t002", "t001"]
    assert [t.transaction_id for t in page.pending or []] == ["t004"]


def test_a_page_beyond_the_last_is_empty_not_an_error():
    items = [_tx(n, BookingStatus.BOOKED, TODAY) for n in range(3)]
    page = report_page(items, ReportQuery(BookingStatusFilter.BOOKED, None, None, 5, 2))
    assert page.booked == [] and page.last_page == 1


def test_pending_debits_reduce_what_is_available_but_not_what_is_booked():
    account = Account(
        "a", "p", "DE89370400440532013000", "EUR", "n", "p", "CACC", "TWRLDEB1XXX", "o", 10_000,
        TODAY,
    )  # fmt: skip
    items = [
        _tx(1, BookingStatus.BOOKED, TODAY, -1_000),
        _tx(2, BookingStatus.PENDING, TODAY, -500),
        _tx(3, BookingStatus.PENDING, TODAY, 2_000),
    ]
    balances = {b.balance_type: b.amount for b in balances_of(account, items, TODAY)}
    assert balances == {"closingBooked": 9_000, "expected": 10_500, "interimAvailable": 8_500}
