"""The SCA state machine and approach choice as pure rules, and the dynamic-linking code."""

from __future__ import annotations

import datetime as dt

import pytest

from twinrail.sandbox.bank.domain.accounts import Psu
from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    ScaApproach,
    ScaPolicy,
    ScaStatus,
    choose_approach,
    log_in,
)
from twinrail.sandbox.bank.domain.dynamic_linking import TransactionChallenge, linked_otp
from twinrail.sandbox.bank.domain.errors import ServiceInvalid

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
ALICE = Psu("alice", "Alice Example", password="pw", otp="123456")
ALL = ScaPolicy()


def auth(approach=ScaApproach.REDIRECT, status=ScaStatus.RECEIVED) -> Authorisation:
    return Authorisation("auth-1", "payment", "pmt-1", "tpp", status, approach, None, 0, NOW, NOW)


@pytest.mark.parametrize(
    ("redirect", "decoupled", "policy", "expected"),
    [
        (None, None, ALL, ScaApproach.EMBEDDED),
        (True, None, ALL, ScaApproach.REDIRECT),
        (True, True, ALL, ScaApproach.REDIRECT),
        (False, True, ALL, ScaApproach.DECOUPLED),
        (True, None, ScaPolicy(frozenset({ScaApproach.EMBEDDED})), ScaApproach.EMBEDDED),
        (False, None, ScaPolicy(default_approach=ScaApproach.REDIRECT), ScaApproach.EMBEDDED),
        (
            False, False,
            ScaPolicy(
                frozenset({ScaApproach.REDIRECT, ScaApproach.DECOUPLED}), ScaApproach.REDIRECT
            ),
            ScaApproach.REDIRECT,
        ),
    ],
)  # fmt: skip
def test_the_bank_honours_the_tpps_preference_when_it_offers_that_approach(
    redirect, decoupled, policy, expected
):
    assert (
        choose_approach(policy, redirect_preferred=redirect, decoupled_preferred=decoupled)
        is expected
    )


def test_a_default_approach_the_bank_does_not_offer_is_refused():
    with pytest.raises(ValueError):
        ScaPolicy(frozenset({ScaApproach.EMBEDDED}), ScaApproach.REDIRECT)


def test_three_wrong_logins_fail_the_redirect_sca():
    current = auth()
    for attempt in (1, 2, 3):
        outcome = log_in(current, ALICE, "alice", "wrong", NOW)
        current = outcome.authorisation
        assert outcome.rejection is not None and current.failed_attempts == attempt
    assert current.sca_status is ScaStatus.FAILED


def test_a_redirect_login_is_not_an_embedded_step():
    with pytest.raises(ServiceInvalid):
        log_in(auth(ScaApproach.EMBEDDED), ALICE, "alice", "pw", NOW)


def test_the_linked_code_changes_with_every_bound_field():
    base = TransactionChallenge("payment", 4500, "EUR", "DE89370400440532013000", "Stadtwerke")
    code = linked_otp("123456", "auth-1", base)
    assert code.isdigit() and len(code) == 6
    variants = [
        TransactionChallenge("payment", 4501, "EUR", base.payee_iban, base.payee_name),
        TransactionChallenge("payment", 4500, "EUR", "DE02100200301000000002", base.payee_name),
        TransactionChallenge("payment", 4500, "EUR", base.payee_iban, "Mallory"),
        TransactionChallenge("payment-cancellation", 4500, "EUR", base.payee_iban, base.payee_name),
    ]
    assert all(linked_otp("123456", "auth-1", v) != code for v in variants)
    assert linked_otp("123456", "auth-2", base) != code
    assert linked_otp("654321", "auth-1", base) != code


def test_a_bank_profile_becomes_the_banks_sca_policy():
    from twinrail.sandbox.bank.profile import BankProfile
    from twinrail.sandbox.bank.runtime import sca_policy_of

    profile = BankProfile(
        name="p", sca_approaches=("redirect", "decoupled"), default_sca_approach="redirect",
        sca_exemptions=True,
    )  # fmt: skip
    assert sca_policy_of(profile) == ScaPolicy(
        frozenset({ScaApproach.REDIRECT, ScaApproach.DECOUPLED}), ScaApproach.REDIRECT, True
    )
