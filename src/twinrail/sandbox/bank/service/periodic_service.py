"""Periodic payments (standing orders): one method per Berlin Group operation on
/v1/periodic-payments/{product}, each owning its transaction, and the executions that run in
sandbox time (lazily, like settlement: whoever looks sees every execution whose day has come).

The PSU authorises a standing order, and its cancellation, with the SCA approach the bank
chooses exactly as for single payments (its profile and the TPP's preference headers): embedded
through PUTs on the authorisation, redirect on the bank's pages, decoupled in its app.

No exemption applies to the initiation: PSD2 RTS art. 14 exempts the later executions of a series
of recurring payments, but the PSU's creation of the series needs SCA (whatever its amount or
payee). Executions run only once the order is ACTC, which only a finalised SCA makes it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from sqlalchemy import Connection

from twinrail.sandbox.bank.domain.accounts import BookingStatus, Transaction
from twinrail.sandbox.bank.domain.authorisation import (
    SCA_TIMEOUT,
    Authorisation,
    ScaApproach,
    ScaStatus,
)
from twinrail.sandbox.bank.domain.errors import ResourceUnknown, StatusInvalid
from twinrail.sandbox.bank.domain.payments import (
    RejectReason,
    TransactionStatus,
    payment_product,
)
from twinrail.sandbox.bank.domain.periodic import PeriodicPayment, parse_periodic_request
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
from twinrail.sandbox.bank.service.sca_steps import (
    ScaRequest,
    approach_for,
)
from twinrail.sandbox.bank.store.bank_store import BankStore
from twinrail.sandbox.bank.store.periodic_store import PeriodicStore

__all__ = ["PeriodicPaymentService", "PeriodicAuthKind", "ORDER", "ORDER_CANCELLATION"]

PeriodicAuthKind = Literal["periodic-payment", "periodic-payment-cancellation"]
ORDER: PeriodicAuthKind = "periodic-payment"
ORDER_CANCELLATION: PeriodicAuthKind = "periodic-payment-cancellation"


class PeriodicPaymentService(
    PaymentResourceService[PeriodicPayment, PeriodicStore, PeriodicAuthKind]
):
    """Standing orders of the bank behind `bank`, on its database and clock."""

    def _store(self, conn: Connection) -> PeriodicStore:
        return PeriodicStore(conn)

    # -- the standing order ----------------------------------------------------------------
    def initiate(self, tpp_id: str, product: str, body: Any) -> PeriodicPayment:
        """POST /v1/periodic-payments/{product}: RCVD, or RJCT when it can never execute."""
        return self.initiate_with_sca(tpp_id, product, body)[0]

    def initiate_with_sca(
        self, tpp_id: str, product: str, body: Any, psu_id: str | None = None,
        sca: ScaRequest | None = None,
    ) -> tuple[PeriodicPayment, Authorisation | None]:  # fmt: skip
        """POST with the TPP's SCA headers: the order, and the authorisation the bank opened at
        once (redirect, decoupled); None when the TPP starts an embedded one itself."""
        now = self.clock()
        request, schedule = parse_periodic_request(body, payment_product(product), now.date())
        approach = approach_for(self.policy, sca)  # a bad SCA request stores nothing
        reason = None
        if request.currency != "EUR":
            reason = RejectReason.CURRENCY_NOT_ALLOWED
        elif not creditor_iban_exists(request.creditor_iban):
            reason = RejectReason.INVALID_CREDITOR_ACCOUNT
        with self._tx() as (bank, store):
            debtor = payable_debtor(bank, request.debtor_iban, product)
            order = PeriodicPayment(
                payment_id=f"spo-{uuid.uuid4().hex}", tpp_id=tpp_id, request=request,
                schedule=schedule, debtor_account_id=debtor.resource_id,
                status=TransactionStatus.RJCT if reason else TransactionStatus.RCVD,
                reject_reason=reason, created_at=now, updated_at=now,
            )  # fmt: skip
            store.add(order)
            if order.status is not TransactionStatus.RCVD or approach is ScaApproach.EMBEDDED:
                return order, None
            auth = add_authorisation(
                bank, self.policy, sca, kind=ORDER, resource_id=order.payment_id, tpp_id=tpp_id,
                psu_id=psu_id, app_psu_id=debtor.psu_id, now=now,
            )  # fmt: skip
        return order, auth

    def _own(
        self, store: PeriodicStore, tpp_id: str, product: str, payment_id: str
    ) -> PeriodicPayment:
        order = store.get(payment_id)
        if order is None or order.tpp_id != tpp_id or order.request.product != product:
            raise ResourceUnknown("no such periodic payment for this TPP", location="path")
        return order

    def _current(
        self, bank: BankStore, store: PeriodicStore, tpp_id: str, product: str, payment_id: str
    ) -> PeriodicPayment:
        """The order as of now: left without a completed SCA beyond the timeout, it is RJCT."""
        order = self._own(store, tpp_id, product, payment_id)
        if order.status is not TransactionStatus.RCVD:
            return order
        now = self.clock()
        if sca_in_progress(bank, ORDER, payment_id, now) or now - order.created_at <= SCA_TIMEOUT:
            return order
        lapsed = order.reject(RejectReason.SCA_FAILED, now)
        store.save(lapsed)
        return lapsed

    def payment(self, tpp_id: str, product: str, payment_id: str) -> PeriodicPayment:
        """GET /v1/periodic-payments/{product}/{id} and .../status, executions included."""
        payment_product(product)
        self.execute_due()
        with self._tx() as (bank, store):
            return self._current(bank, store, tpp_id, product, payment_id)

    def cancel(self, tpp_id: str, product: str, payment_id: str) -> PeriodicPayment:
        """DELETE: an order not yet authorised is cancelled at once; a running one (ACTC) is
        returned unchanged, to be stopped through a cancellation authorisation."""
        payment_product(product)
        self.execute_due()
        now = self.clock()
        with self._tx() as (bank, store):
            order = self._current(bank, store, tpp_id, product, payment_id)
            if order.status is TransactionStatus.ACTC:
                return order
            if order.status is not TransactionStatus.RCVD:
                raise StatusInvalid(f"a {order.status.value} periodic payment cannot be cancelled")
            cancelled = order.cancel(now)
            store.save(cancelled)
        return cancelled

    # -- executions in sandbox time ----------------------------------------------------------
    def execute_due(self) -> int:
        """Execute every running order whose execution days have come; the number executed."""
        now = self.clock()
        today = now.date()
        count = 0
        with self._tx() as (bank, store):
            for order in store.running():
                for day in order.due(today):
                    self._debit(bank, order, day)
                    order = order.executed(day, today, now)
                    count += 1
                store.save(order)
        return count

    def _debit(self, bank: BankStore, order: PeriodicPayment, day: dt.date) -> None:
        account = bank.account(order.debtor_account_id)
        assert account is not None
        request = order.request
        history = bank.transactions_of(account.resource_id)
        if available_balance(account, history, day) < request.amount:
            return  # this execution is skipped for lack of funds; the order runs on
        number = order.executions + 1
        reference = (request.end_to_end_id or order.payment_id)[:35]
        entry = Transaction(
            transaction_id=f"{account.resource_id}-{order.payment_id[4:16]}-{number:04d}",
            account_id=account.resource_id, status=BookingStatus.BOOKED, booking_date=day,
            value_date=day, amount=-request.amount, counterparty_name=request.creditor_name,
            counterparty_iban=request.creditor_iban, remittance=request.remittance,
            entry_reference=reference,
        )  # fmt: skip
        entries = [entry]
        creditor = bank.account_by_iban(request.creditor_iban)
        if creditor is not None:
            entries.append(
                Transaction(
                    transaction_id=f"{creditor.resource_id}-{order.payment_id[4:16]}-{number:04d}",
                    account_id=creditor.resource_id, status=BookingStatus.BOOKED,
                    booking_date=day, value_date=day, amount=request.amount,
                    counterparty_name=account.owner_name, counterparty_iban=account.iban,
                    remittance=request.remittance, entry_reference=reference,
                )
            )  # fmt: skip
        bank.add_transactions(entries)

    # -- authorisations ---------------------------------------------------------------------
    def start_authorisation(
        self, tpp_id: str, product: str, payment_id: str, psu_id: str | None, body: Any,
        kind: PeriodicAuthKind = ORDER, sca: ScaRequest | None = None,
    ) -> Authorisation:  # fmt: skip
        """POST .../authorisations (or cancellation-authorisations) in the approach the bank
        chooses for `sca`; embedded, optionally with the PSU's password already."""
        payment_product(product)
        self.execute_due()
        now = self.clock()
        with self._tx() as (bank, store):
            order = self._current(bank, store, tpp_id, product, payment_id)
            wanted = TransactionStatus.RCVD if kind == ORDER else TransactionStatus.ACTC
            if order.status is not wanted:
                raise StatusInvalid(f"a {order.status.value} periodic payment has no such step")
            busy = "an authorisation of this periodic payment is under way"
            refuse_if_under_way(bank, kind, payment_id, now, busy)
            auth = add_authorisation(
                bank, self.policy, sca, kind=kind, resource_id=payment_id, tpp_id=tpp_id,
                psu_id=psu_id, app_psu_id=holder_of(bank, order.debtor_account_id), now=now,
            )  # fmt: skip
        if body and auth.sca_approach is ScaApproach.EMBEDDED:
            return self.update_authorisation(
                tpp_id, product, payment_id, auth.authorisation_id, psu_id, body, kind
            )
        return auth

    def update_authorisation(
        self, tpp_id: str, product: str, payment_id: str, authorisation_id: str,
        psu_id: str | None, body: Any, kind: PeriodicAuthKind = ORDER,
    ) -> Authorisation:  # fmt: skip
        """PUT .../authorisations/{id}: password, then OTP; finalising starts (or stops) the
        standing order."""
        payment_product(product)
        return self._embedded_update(
            tpp_id, product, payment_id, authorisation_id, psu_id, body, kind
        )

    def _record_step(
        self, bank: BankStore, store: PeriodicStore, order: PeriodicPayment,
        auth: Authorisation, now: dt.datetime,
    ) -> StatusInvalid | None:  # fmt: skip
        save_step(bank, auth)
        holder = holder_of(bank, order.debtor_account_id)
        if auth.resource_type == ORDER_CANCELLATION:
            if auth.sca_status is not ScaStatus.FINALISED:
                return None
            if auth.psu_id != holder:
                return StatusInvalid("only the account holder can stop this standing order")
            if order.status is not TransactionStatus.ACTC:
                return StatusInvalid(f"the periodic payment is {order.status.value}")
            store.save(order.cancel(now))
            return None
        if order.status is not TransactionStatus.RCVD:
            return None
        if auth.sca_status is ScaStatus.FAILED:
            store.save(order.reject(RejectReason.SCA_FAILED, now))
        elif auth.sca_status is ScaStatus.FINALISED:
            accepted = order.accept(now) if auth.psu_id == holder else None
            store.save(accepted or order.reject(RejectReason.NOT_ACCOUNT_HOLDER, now))
        return None

    def record_sca_step(
        self, bank: BankStore, auth: Authorisation, now: dt.datetime
    ) -> StatusInvalid | None:
        """Store a step taken on the PSU's pages (redirect, decoupled) with its effect on the
        standing order, in the caller's transaction."""
        store = PeriodicStore(bank.conn)
        order = store.get(auth.resource_id)
        if order is None:
            raise ResourceUnknown("no such periodic payment", location="path")
        return self._record_step(bank, store, order, auth, now)

    def _own_authorisation(
        self, bank: BankStore, order: PeriodicPayment, authorisation_id: str, kind: str
    ) -> Authorisation:
        missing = "no such authorisation of this periodic payment"
        return own_authorisation(bank, authorisation_id, kind, order.payment_id, missing)
