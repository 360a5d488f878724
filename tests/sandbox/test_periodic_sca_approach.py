"""The bank chooses the SCA approach of a standing order exactly as of a single payment: from its
profile's SCA policy and the TPP's preference headers (service level, the bank's own SQLite)."""

from __future__ import annotations

import datetime as dt

import pytest

from twinrail.platform.db import create_db_engine
from twinrail.sandbox.bank.domain.authorisation import ScaApproach, ScaPolicy
from twinrail.sandbox.bank.domain.errors import FormatError
from twinrail.sandbox.bank.service.bank_service import BankService
from twinrail.sandbox.bank.service.payment_service import PaymentService
from twinrail.sandbox.bank.service.periodic_service import PeriodicPaymentService
from twinrail.sandbox.bank.service.sca_steps import ScaRequest
from twinrail.sandbox.bank.store.bank_store import BankStore

SCT = "sepa-credit-transfers"
NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
URI = "https://tpp.example/ok"
E, R, D = ScaApproach.EMBEDDED, ScaApproach.REDIRECT, ScaApproach.DECOUPLED

POLICIES = {
    "all-embedded-default": ScaPolicy(),
    "all-redirect-default": ScaPolicy(default_approach=R),
    "all-decoupled-default": ScaPolicy(default_approach=D),
    "embedded-only": ScaPolicy(approaches=frozenset({E})),
    "redirect-only": ScaPolicy(approaches=frozenset({R}), default_approach=R),
}
REQUESTS = {
    "no-headers": ScaRequest(redirect_uri=URI),
    "redirect-preferred": ScaRequest(redirect_preferred=True, redirect_uri=URI),
    "decoupled-preferred": ScaRequest(decoupled_preferred=True, redirect_uri=URI),
    "not-redirected": ScaRequest(redirect_preferred=False, redirect_uri=URI),
    "not-decoupled": ScaRequest(decoupled_preferred=False, redirect_uri=URI),
}


@pytest.fixture(scope="module")
def banks(tmp_path_factory) -> dict[str, BankService]:
    found = {}
    for name, policy in POLICIES.items():
        url = f"sqlite:///{tmp_path_factory.mktemp(name)}/bank.db"
        bank = BankService(create_db_engine(url), clock=lambda: NOW, sca_policy=policy)
        bank.seed()
        found[name] = bank
    return found


def body(bank: BankService, amount: str = "45.00") -> dict:
    with bank.engine.connect() as conn:
        iban = next(
            a.iban for a in BankStore(conn).accounts_of("alice") if a.cash_account_type == "CACC"
        )
    return {
        "debtorAccount": {"iban": iban},
        "instructedAmount": {"currency": "EUR", "amount": amount},
        "creditorAccount": {"iban": "DE89370400440532013000"},
        "creditorName": "Landlord GmbH",
        "frequency": "Monthly",
        "startDate": NOW.date().isoformat(),
    }


def approach(auth) -> ScaApproach:
    return E if auth is None else auth.sca_approach


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("sca", REQUESTS)
def test_a_standing_order_gets_the_approach_a_single_payment_gets(banks, policy, sca):
    bank, request = banks[policy], REQUESTS[sca]
    single = {k: v for k, v in body(bank).items() if k not in ("frequency", "startDate")}
    _, payment_auth = PaymentService(bank).initiate_with_sca("tpp", SCT, single, None, request)
    order, order_auth = PeriodicPaymentService(bank).initiate_with_sca(
        "tpp", SCT, body(bank), None, request
    )
    assert approach(order_auth) is approach(payment_auth)
    assert order.status.value == "RCVD"
    if order_auth is not None:
        assert (order_auth.resource_type, order_auth.resource_id) == (
            "periodic-payment", order.payment_id,
        )  # fmt: skip


def test_a_redirect_without_a_redirect_uri_is_refused_for_orders_as_for_payments(banks):
    bank = banks["all-redirect-default"]
    with pytest.raises(FormatError):
        PeriodicPaymentService(bank).initiate_with_sca("tpp", SCT, body(bank), None, ScaRequest())
