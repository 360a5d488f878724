"""The bank's SCA exemption rules as pure functions, the low-value counters at their boundaries
(EUR 30 each, EUR 100 and five payments since the last SCA) checked with hypothesis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from twinrail.sandbox.bank.domain.exemptions import (
    CONSECUTIVE_LIMIT,
    CUMULATIVE_LIMIT,
    LOW_VALUE_LIMIT,
    ExemptionReason,
    LowValueCounter,
    PaymentFacts,
    decide_exemption,
)

PAYEE, OWN, TRUSTED = (
    "DE89370400440532013000",
    "DE02100200301000000002",
    "FR1420041010050500013M02606",
)


def facts(amount: int, creditor: str = PAYEE, *, repeats: bool = False, currency: str = "EUR"):
    return PaymentFacts(amount, currency, creditor, frozenset({OWN}), frozenset({TRUSTED}), repeats)


def test_thirty_euros_is_low_value_and_one_cent_more_is_not():
    assert (
        decide_exemption(facts(LOW_VALUE_LIMIT), LowValueCounter())[0] is ExemptionReason.LOW_VALUE
    )
    assert decide_exemption(facts(LOW_VALUE_LIMIT + 1), LowValueCounter())[0] is None


def test_the_sixth_low_value_payment_since_the_last_sca_needs_sca():
    counter = LowValueCounter()
    for _ in range(CONSECUTIVE_LIMIT):
        reason, counter = decide_exemption(facts(100), counter)
        assert reason is ExemptionReason.LOW_VALUE
    assert decide_exemption(facts(100), counter) == (None, counter)


def test_the_cumulative_hundred_euros_is_reached_exactly_and_not_passed():
    counter = LowValueCounter(3, 75_00)
    assert decide_exemption(facts(25_00), counter)[0] is ExemptionReason.LOW_VALUE
    assert decide_exemption(facts(25_01), counter)[0] is None


def test_other_currencies_are_never_low_value():
    assert decide_exemption(facts(100, currency="USD"), LowValueCounter())[0] is None


def test_own_accounts_trusted_payees_and_repeats_are_exempt_whatever_the_amount_or_counter():
    spent = LowValueCounter(CONSECUTIVE_LIMIT, CUMULATIVE_LIMIT)
    assert decide_exemption(facts(10**9, OWN), spent) == (ExemptionReason.OWN_ACCOUNTS, spent)
    assert decide_exemption(facts(10**9, TRUSTED), spent) == (
        ExemptionReason.TRUSTED_BENEFICIARY, spent,
    )  # fmt: skip
    assert decide_exemption(facts(10**9, repeats=True), spent) == (ExemptionReason.RECURRING, spent)


@given(st.lists(st.integers(min_value=1, max_value=60_00), max_size=20))
def test_exempted_low_value_payments_never_pass_the_limits(amounts):
    counter = LowValueCounter()
    exempted = []
    for amount in amounts:
        reason, after = decide_exemption(facts(amount), counter)
        if reason is None:
            assert after == counter
            # Refused only because this payment would pass one of the three limits.
            assert (
                amount > LOW_VALUE_LIMIT
                or counter.count + 1 > CONSECUTIVE_LIMIT
                or counter.total + amount > CUMULATIVE_LIMIT
            )
        else:
            exempted.append(amount)
            assert after == LowValueCounter(counter.count + 1, counter.total + amount)
        counter = after
    assert len(exempted) <= CONSECUTIVE_LIMIT
    assert sum(exempted) <= CUMULATIVE_LIMIT
    assert all(a <= LOW_VALUE_LIMIT for a in exempted)
    assert counter == LowValueCounter(len(exempted), sum(exempted))


@given(
    st.integers(min_value=0, max_value=CONSECUTIVE_LIMIT),
    st.integers(min_value=0, max_value=CUMULATIVE_LIMIT),
    st.integers(min_value=1, max_value=LOW_VALUE_LIMIT),
)
def test_a_reset_counter_exempts_any_low_value_payment(count, total, amount):
    assert LowValueCounter().allows(amount)
    allowed = LowValueCounter(count, total).allows(amount)
    assert allowed == (count < CONSECUTIVE_LIMIT and total + amount <= CUMULATIVE_LIMIT)
