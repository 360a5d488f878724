"""Whether the bank waives SCA for a new payment: the facts it gathers about the payment and
its PSU, the pure decision (`domain.exemptions`), and the exempted authorisation it records."""

from __future__ import annotations

import datetime as dt
import uuid

from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaPolicy, ScaStatus
from twinrail.sandbox.bank.domain.exemptions import LowValueCounter, PaymentFacts, decide_exemption
from twinrail.sandbox.bank.domain.payments import Payment
from twinrail.sandbox.bank.store.bank_store import BankStore
from twinrail.sandbox.bank.store.sca_store import ScaStore

__all__ = ["exempted_authorisation"]


def exempted_authorisation(
    policy: ScaPolicy, bank: BankStore, payment: Payment, psu_id: str | None, now: dt.datetime
) -> tuple[Authorisation, LowValueCounter] | None:
    """The `exempted` authorisation of `payment` and its PSU's low-value counter afterwards,
    or None when SCA is needed (exemptions off, or the TPP named a PSU other than the holder)."""
    debtor = bank.account(payment.debtor_account_id)
    if not policy.exemptions or debtor is None or psu_id not in (None, debtor.psu_id):
        return None
    holder, request, sca = debtor.psu_id, payment.request, ScaStore(bank.conn)
    facts = PaymentFacts(
        amount=request.amount, currency=request.currency, creditor_iban=request.creditor_iban,
        own_ibans=frozenset(a.iban for a in bank.accounts_of(holder)) - {debtor.iban},
        trusted_ibans=sca.trusted_ibans(holder),
        repeats_authorised_payment=sca.has_authorised_twin(
            debtor.resource_id, request.creditor_iban, request.amount, request.currency
        ),
    )  # fmt: skip
    reason, counter = decide_exemption(facts, sca.low_value_counter(holder))
    if reason is None:
        return None
    auth = Authorisation(
        authorisation_id=f"auth-{uuid.uuid4().hex}", resource_type="payment",
        resource_id=payment.payment_id, tpp_id=payment.tpp_id, sca_status=ScaStatus.EXEMPTED,
        sca_approach=policy.default_approach, psu_id=holder, failed_attempts=0,
        created_at=now, updated_at=now,
    )  # fmt: skip
    return auth, counter
