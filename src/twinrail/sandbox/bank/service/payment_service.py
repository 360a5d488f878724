"""Payment initiation (PIS): one method per Berlin Group operation, each owning its transaction;
the SCA of a payment and of its cancellation is the embedded one the consents use."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from sqlalchemy import Connection

from twinrail.sandbox.bank.domain.accounts import BookingStatus, Transaction
from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    ScaApproach,
    ScaStatus,
)
from twinrail.sandbox.bank.domain.errors import ResourceUnknown, StatusInvalid
from twinrail.sandbox.bank.domain.payments import (
    Payment,
    RejectReason,
    TransactionStatus,
    parse_payment_request,
    payment_product,
)
from twinrail.sandbox.bank.service.payment_steps import (
    PaymentResourceService,
    add_authorisation,
    available_balance,
    creditor_iban_exists,
    holder_of,
    own_authorisation,
    payable_debtor,
    refuse_if_under_way,
    save_step,
    sca_in_progress,
)
from twinrail.sandbox.bank.service.sca_exemptions import exempted_authorisation
from twinrail.sandbox.bank.service.sca_steps import (
    ScaRequest,
    approach_for,
)
from twinrail.sandbox.bank.store.bank_store import BankStore
from twinrail.sandbox.bank.store.payment_store import PaymentStore
from twinrail.sandbox.bank.store.sca_store import ScaStore

__all__ = [
    "PaymentService",
    "AuthKind",
    "PAYMENT",
    "CANCELLATION",
]

AuthKind = Literal["payment", "payment-cancellation"]
PAYMENT: AuthKind = "payment"  # the authorisation of the payment itself
CANCELLATION: AuthKind = "payment-cancellation"  # the authorisation of its cancellation


class PaymentService(PaymentResourceService[Payment, PaymentStore, AuthKind]):
    """Payments of the bank behind `bank`, on its database and clock."""

    booked_amount_change = 0  # cents a debit is booked larger than it was pending (profile quirk)

    def _store(self, conn: Connection) -> PaymentStore:
        return PaymentStore(conn)

    # -- initiation and the payment resource ---------------------------------------------
    def initiate(self, tpp_id: str, product: str, body: Any) -> Payment:
        """POST /v1/payments/{product}: RCVD, or RJCT at once when it can never execute."""
        return self.initiate_with_sca(tpp_id, product, body)[0]

    def initiate_with_sca(
        self,
        tpp_id: str,
        product: str,
        body: Any,
        psu_id: str | None = None,
        sca: ScaRequest | None = None,
    ) -> tuple[Payment, Authorisation | None]:
        """POST /v1/payments/{product} with the TPP's SCA headers: the payment, and the
        authorisation the bank opened at once (redirect, decoupled) or the exemption it applied
        (ACTC without SCA); None when the TPP starts an embedded authorisation itself."""
        now = self.clock()
        request = parse_payment_request(body, payment_product(product))
        approach = approach_for(self.policy, sca)  # a bad SCA request stores nothing
        exists = creditor_iban_exists(request.creditor_iban)
        with self._tx() as (bank, store):
            debtor = payable_debtor(bank, request.debtor_iban, product)
            payment = Payment.receive(
                f"pmt-{uuid.uuid4().hex}", tpp_id, request, debtor.resource_id,
                creditor_iban_exists=exists, now=now,
            )  # fmt: skip
            store.add(payment)
            if payment.status is not TransactionStatus.RCVD:
                return payment, None
            exempted = self._exempt(bank, store, payment, psu_id, now)
            if exempted is not None:
                return exempted
            if approach is ScaApproach.EMBEDDED:
                return payment, None
            auth = add_authorisation(
                bank, self.policy, sca, kind=PAYMENT, resource_id=payment.payment_id, tpp_id=tpp_id,
                psu_id=psu_id, app_psu_id=debtor.psu_id, now=now,
            )  # fmt: skip
        return payment, auth

    def _exempt(
        self,
        bank: BankStore,
        store: PaymentStore,
        payment: Payment,
        psu_id: str | None,
        now: dt.datetime,
    ) -> tuple[Payment, Authorisation] | None:
        """Accept `payment` without SCA if the bank applies an exemption to it."""
        exemption = exempted_authorisation(self.policy, bank, payment, psu_id, now)
        if exemption is None:
            return None
        auth, counter = exemption
        holder = auth.psu_id or ""
        bank.add_authorisation(auth)
        accepted = self._accept(bank, payment, holder, now)
        store.save(accepted)
        if accepted.status is TransactionStatus.ACTC:  # a payment without funds does not count
            ScaStore(bank.conn).save_low_value_counter(holder, counter)
        return accepted, auth

    def _own(self, store: PaymentStore, tpp_id: str, product: str, payment_id: str) -> Payment:
        payment = store.get(payment_id)
        # Another TPP's payment, or one under another product, is unknown here.
        if payment is None or payment.tpp_id != tpp_id or payment.request.product != product:
            raise ResourceUnknown("no such payment for this TPP", location="path")
        return payment

    def _current(
        self, bank: BankStore, store: PaymentStore, tpp_id: str, product: str, payment_id: str
    ) -> Payment:
        """The TPP's payment as of now: an SCA abandoned, or never started in time, rejects it."""
        payment = self._own(store, tpp_id, product, payment_id)
        if payment.status is not TransactionStatus.RCVD:
            return payment
        now = self.clock()
        in_progress = sca_in_progress(bank, PAYMENT, payment_id, now)
        lapsed = payment.lapse_if_unauthorised(now, sca_in_progress=in_progress)
        if lapsed is None:
            return payment
        store.save(lapsed)
        return lapsed

    def payment(self, tpp_id: str, product: str, payment_id: str) -> Payment:
        """GET /v1/payments/{product}/{id} and .../status: the payment as of now."""
        payment_product(product)
        self.settle_due()
        with self._tx() as (bank, store):
            return self._current(bank, store, tpp_id, product, payment_id)

    def cancel(self, tpp_id: str, product: str, payment_id: str) -> Payment:
        """DELETE /v1/payments/{product}/{id}: a payment not yet authorised is cancelled at once;
        an authorised one still waiting for execution is returned unchanged (ACTC), to be
        cancelled through a cancellation authorisation (the PSU's SCA)."""
        payment_product(product)
        self.settle_due()
        now = self.clock()
        with self._tx() as (bank, store):
            payment = self._current(bank, store, tpp_id, product, payment_id)
            if payment.cancellation_needs_sca(now):
                return payment
            cancelled = payment.cancel(now)
            store.save(cancelled)
        return cancelled

    def _cancel_authorised(self, store: PaymentStore, payment: Payment, now: dt.datetime) -> None:
        cancelled = payment.cancel(now)
        if cancelled.entry_id is not None:
            store.drop_entry(cancelled.entry_id)  # the pending debit is released
        store.save(cancelled)

    def settle_due(self) -> int:
        """Settle every accepted payment whose delay has passed; their entries become booked."""
        now = self.clock()
        with self._tx() as (bank, store):
            due = store.due(now)
            for payment in due:
                settled = payment.settle_if_due(now)
                if settled is None or payment.settle_at is None:
                    continue
                if settled.entry_id is not None:
                    store.book_entry(settled.entry_id, payment.settle_at.date())
                    if self.booked_amount_change:  # a profile quirk; 0 at an honest bank
                        store.add_to_entry_amount(settled.entry_id, -self.booked_amount_change)
                self._credit_if_ours(bank, settled, payment.settle_at.date())
                store.save(settled)
        return len(due)

    def _credit_if_ours(self, bank: BankStore, payment: Payment, day: dt.date) -> None:
        # A transfer to another customer of this bank arrives on the same day it settles.
        creditor = bank.account_by_iban(payment.request.creditor_iban)
        debtor = bank.account(payment.debtor_account_id)
        if creditor is None or debtor is None:
            return
        request = payment.request
        bank.add_transactions([
            Transaction(
                transaction_id=f"{creditor.resource_id}-{payment.payment_id[4:20]}",
                account_id=creditor.resource_id, status=BookingStatus.BOOKED, booking_date=day,
                value_date=day, amount=request.amount, counterparty_name=debtor.owner_name,
                counterparty_iban=debtor.iban, remittance=request.remittance,
                entry_reference=(request.end_to_end_id or payment.payment_id)[:35],
            )
        ])  # fmt: skip

    # -- authorisations (embedded SCA, shared with consents) -----------------------------
    def start_authorisation(
        self,
        tpp_id: str,
        product: str,
        payment_id: str,
        psu_id: str | None,
        body: Any,
        kind: AuthKind = PAYMENT,
        sca: ScaRequest | None = None,
    ) -> Authorisation:
        """POST .../{paymentId}/authorisations (or cancellation-authorisations) in the approach
        the bank chooses for `sca`; embedded, optionally with the PSU's password already."""
        payment_product(product)
        self.settle_due()
        now = self.clock()
        with self._tx() as (bank, store):
            payment = self._current(bank, store, tpp_id, product, payment_id)
            if kind == PAYMENT and payment.status is not TransactionStatus.RCVD:
                raise StatusInvalid("payment is not awaiting authorisation")
            if kind == CANCELLATION and not payment.cancellation_needs_sca(now):
                raise StatusInvalid(f"a {payment.status.value} payment has nothing to cancel")
            busy = "an authorisation of this payment is already under way"
            refuse_if_under_way(bank, kind, payment_id, now, busy)
            auth = add_authorisation(
                bank, self.policy, sca, kind=kind, resource_id=payment_id, tpp_id=tpp_id,
                psu_id=psu_id, app_psu_id=holder_of(bank, payment.debtor_account_id), now=now,
            )  # fmt: skip
        if body and auth.sca_approach is ScaApproach.EMBEDDED:
            return self.update_authorisation(
                tpp_id, product, payment_id, auth.authorisation_id, psu_id, body, kind
            )
        return auth

    def update_authorisation(
        self,
        tpp_id: str,
        product: str,
        payment_id: str,
        authorisation_id: str,
        psu_id: str | None,
        body: Any,
        kind: AuthKind = PAYMENT,
    ) -> Authorisation:
        """PUT .../authorisations/{id}: password, then OTP; finalising accepts or rejects the
        payment, or (a cancellation authorisation) cancels it if it is still unexecuted."""
        payment_product(product)
        self.settle_due()
        return self._embedded_update(
            tpp_id, product, payment_id, authorisation_id, psu_id, body, kind
        )

    def _record_step(
        self,
        bank: BankStore,
        store: PaymentStore,
        payment: Payment,
        auth: Authorisation,
        now: dt.datetime,
    ) -> StatusInvalid | None:
        """Store the step and its effect on the payment; the rejection to report, if any."""
        save_step(bank, auth)
        if auth.resource_type == CANCELLATION:
            if auth.sca_status is not ScaStatus.FINALISED:
                return None  # a failed cancellation SCA leaves the payment to execute
            if auth.psu_id != holder_of(bank, payment.debtor_account_id):
                return StatusInvalid("only the account holder can cancel this payment")
            if not payment.cancellation_needs_sca(now):
                return StatusInvalid(f"the payment is {payment.status.value}; too late to cancel")
            self._cancel_authorised(store, payment, now)
            return None
        if payment.status is not TransactionStatus.RCVD:
            return None
        if auth.sca_status is ScaStatus.FAILED:
            store.save(payment.reject(RejectReason.SCA_FAILED, now))
        elif auth.sca_status is ScaStatus.FINALISED:
            store.save(self._accept(bank, payment, auth.psu_id, now))
        return None

    def record_sca_step(
        self, bank: BankStore, store: PaymentStore, auth: Authorisation, now: dt.datetime
    ) -> StatusInvalid | None:
        """Store a step taken on the PSU's pages with its effect on the payment."""
        payment = store.get(auth.resource_id)
        if payment is None:
            raise ResourceUnknown("no such payment", location="path")
        return self._record_step(bank, store, payment, auth, now)

    def _accept(
        self, bank: BankStore, payment: Payment, psu_id: str | None, now: dt.datetime
    ) -> Payment:
        account = bank.account(payment.debtor_account_id)
        assert account is not None
        available = available_balance(
            account, bank.transactions_of(account.resource_id), now.date()
        )
        entry_id = f"{account.resource_id}-{payment.payment_id[4:20]}"
        accepted = payment.accept(
            available, psu_holds_account=account.psu_id == psu_id, entry_id=entry_id, now=now
        )
        if accepted.status is TransactionStatus.ACTC:
            request = accepted.request
            bank.add_transactions([
                Transaction(
                    transaction_id=entry_id, account_id=account.resource_id,
                    status=BookingStatus.PENDING, booking_date=None, value_date=now.date(),
                    amount=-request.amount, counterparty_name=request.creditor_name,
                    counterparty_iban=request.creditor_iban, remittance=request.remittance,
                    entry_reference=(request.end_to_end_id or payment.payment_id)[:35],
                )
            ])  # fmt: skip
        return accepted

    def _own_authorisation(
        self, bank: BankStore, payment: Payment, authorisation_id: str, kind: AuthKind
    ) -> Authorisation:
        missing = f"no such {kind} authorisation"
        return own_authorisation(bank, authorisation_id, kind, payment.payment_id, missing)
