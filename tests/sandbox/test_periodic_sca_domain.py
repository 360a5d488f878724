"""Dynamic linking of standing orders, without I/O: the one-time password binds every term of
the schedule, and single payments keep the codes they had before schedules were bound."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

import pytest

from twinrail.sandbox.bank.domain.dynamic_linking import (
    StandingOrderTerms,
    TransactionChallenge,
    linked_otp,
)

SECRET = "sandbox-secret"
TERMS = StandingOrderTerms("Monthly", "2026-12-01", "2027-05-31", "3", "following")
ORDER = TransactionChallenge(
    "periodic-payment", 3150, "EUR", "DE89370400440532013000", "Landlord GmbH", "Rent", TERMS
)


@pytest.mark.parametrize(
    ("field", "value"),
    [("frequency", "Weekly"), ("start_date", "2026-12-02"), ("end_date", ""),
     ("day_of_execution", "4"), ("execution_rule", "preceding")],
)  # fmt: skip
def test_changing_any_term_of_the_schedule_changes_the_code(field, value):
    changed = dataclasses.replace(ORDER, schedule=dataclasses.replace(TERMS, **{field: value}))
    assert linked_otp(SECRET, "auth-1", changed) != linked_otp(SECRET, "auth-1", ORDER)


def test_a_standing_order_and_its_cancellation_have_different_codes():
    stop = dataclasses.replace(ORDER, purpose="periodic-payment-cancellation")
    assert linked_otp(SECRET, "auth-1", stop) != linked_otp(SECRET, "auth-1", ORDER)


def test_a_single_payment_keeps_the_code_computed_over_amount_and_payee_only():
    single = dataclasses.replace(ORDER, purpose="payment", schedule=None)
    fields = ("auth-1", "payment", "3150", "EUR", "DE89370400440532013000", "Landlord GmbH", "Rent")
    digest = hmac.new(SECRET.encode(), "\x1f".join(fields).encode(), hashlib.sha256).digest()
    offset = digest[-1] & 0x0F
    code = int.from_bytes(digest[offset : offset + 4], "big") & 0x7FFFFFFF
    assert linked_otp(SECRET, "auth-1", single) == f"{code % 10**6:06d}"


def test_the_psu_reads_the_schedule_in_the_sms_line():
    assert ORDER.describe() == (
        "Pay by standing order EUR 31.50 to Landlord GmbH (DE89370400440532013000), "
        "Monthly from 2026-12-01 until 2027-05-31"
    )
    stop = dataclasses.replace(ORDER, purpose="periodic-payment-cancellation")
    assert stop.describe().startswith("Stop the standing order of EUR 31.50")
