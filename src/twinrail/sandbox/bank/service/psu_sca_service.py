"""The PSU's side of redirect and decoupled SCA: the steps the bank's login / OTP pages and its
simulated banking app take. Each step owns its transaction and applies the outcome to the
authorised resource (consent, payment, standing order or a cancellation of either) in that same
transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    ScaStatus,
    StepOutcome,
    abandon_if_stale,
    approve_in_app,
    authorise_linked_transaction,
    cancel_by_psu,
    log_in,
    reject_in_app,
    send_otp,
)
from twinrail.sandbox.bank.domain.consents import AccessKind
from twinrail.sandbox.bank.domain.dynamic_linking import (
    StandingOrderTerms,
    TransactionChallenge,
    linked_otp,
)
from twinrail.sandbox.bank.domain.errors import BankRejection, ResourceUnknown, StatusInvalid
from twinrail.sandbox.bank.domain.periodic import PeriodicPayment
from twinrail.sandbox.bank.service.bank_service import BankService
from twinrail.sandbox.bank.service.payment_service import PaymentService
from twinrail.sandbox.bank.service.periodic_service import (
    ORDER,
    ORDER_CANCELLATION,
    PeriodicPaymentService,
)
from twinrail.sandbox.bank.store.bank_store import BankStore
from twinrail.sandbox.bank.store.payment_store import PaymentStore
from twinrail.sandbox.bank.store.periodic_store import PeriodicStore
from twinrail.sandbox.bank.store.sca_store import ScaStore

__all__ = ["PsuScaService", "ScaView", "SandboxSms"]

Step = Callable[[BankStore, Authorisation, TransactionChallenge], "Authorisation | StepOutcome"]


@dataclass(frozen=True)
class ScaView:
    """An authorisation as its PSU-facing page shows it; `error` after a refused step."""

    authorisation: Authorisation
    challenge: TransactionChallenge
    error: str | None = None

    @property
    def return_uri(self) -> str | None:
        """Where the PSU goes back to the TPP: the Nok URI after a failure, if there is one."""
        auth = self.authorisation
        if auth.sca_status is ScaStatus.FAILED:
            return auth.nok_redirect_uri or auth.redirect_uri
        return auth.redirect_uri


@dataclass(frozen=True)
class SandboxSms:
    """An SMS the sandbox bank 'sent': the code and what it authorises."""

    authorisation_id: str
    challenge: TransactionChallenge
    otp: str


_STANDING_ORDER_KINDS = (ORDER, ORDER_CANCELLATION)


def _terms(order: PeriodicPayment) -> StandingOrderTerms:
    schedule = order.schedule
    return StandingOrderTerms(
        frequency=schedule.frequency.value,
        start_date=schedule.start_date.isoformat(),
        end_date=schedule.end_date.isoformat() if schedule.end_date else "",
        day_of_execution=str(schedule.day_of_execution or ""),
        execution_rule=schedule.execution_rule.value if schedule.execution_rule else "",
    )


def _order_challenge(bank: BankStore, kind: str, payment_id: str) -> TransactionChallenge:
    """A standing order's (or its cancellation's) amount, payee and schedule."""
    order = PeriodicStore(bank.conn).get(payment_id)
    if order is None:
        raise ResourceUnknown("no such periodic payment", location="path")
    request = order.request
    return TransactionChallenge(
        kind, request.amount, request.currency, request.creditor_iban, request.creditor_name,
        request.remittance, schedule=_terms(order),
    )  # fmt: skip


class PsuScaService:
    """Redirect pages and bank-app approvals of one bank."""

    def __init__(
        self,
        bank: BankService,
        payments: PaymentService,
        periodic: PeriodicPaymentService | None = None,
    ) -> None:
        self.bank = bank
        self.payments = payments
        self.periodic = periodic or PeriodicPaymentService(bank)
        self.engine = bank.engine
        self.clock = bank.clock

    @contextmanager
    def _tx(self) -> Iterator[tuple[BankStore, PaymentStore]]:
        with self.engine.connect() as conn, conn.begin():
            yield BankStore(conn), PaymentStore(conn)

    # -- reading ------------------------------------------------------------------------
    def _challenge(
        self, bank: BankStore, store: PaymentStore, auth: Authorisation
    ) -> TransactionChallenge:
        if auth.resource_type == "consent":
            consent = bank.consent(auth.resource_id)
            if consent is None:
                raise ResourceUnknown("no such consent", location="path")
            access = consent.requested
            ibans = sorted(set().union(*(access.ibans(k) for k in AccessKind)))
            detail = ", ".join(ibans) if ibans else "all your payment accounts"
            return TransactionChallenge("consent", None, "", "", auth.tpp_id, detail)
        if auth.resource_type in _STANDING_ORDER_KINDS:
            return _order_challenge(bank, auth.resource_type, auth.resource_id)
        payment = store.get(auth.resource_id)
        if payment is None:
            raise ResourceUnknown("no such payment", location="path")
        request = payment.request
        return TransactionChallenge(
            auth.resource_type, request.amount, request.currency, request.creditor_iban,
            request.creditor_name, request.remittance,
        )  # fmt: skip

    def _load(self, bank: BankStore, store: PaymentStore, authorisation_id: str) -> Authorisation:
        auth = bank.authorisation(authorisation_id)
        if auth is None:
            raise ResourceUnknown("no such authorisation", location="path")
        stale = abandon_if_stale(auth, self.clock())
        if stale is not None:  # the PSU left it too long: failed, with its effect
            self._record(bank, store, stale)
            return stale
        return auth

    def _record(self, bank: BankStore, store: PaymentStore, auth: Authorisation) -> None:
        now = self.clock()
        if auth.resource_type == "consent":
            self.bank.record_sca_step(bank, auth, now)
        elif auth.resource_type in _STANDING_ORDER_KINDS:
            self.periodic.record_sca_step(bank, auth, now)
        else:
            self.payments.record_sca_step(bank, store, auth, now)

    def view(self, authorisation_id: str) -> ScaView:
        """The authorisation as of now (an abandoned one has failed) and what it authorises."""
        with self._tx() as (bank, store):
            auth = self._load(bank, store, authorisation_id)
            return ScaView(auth, self._challenge(bank, store, auth))

    # -- redirect steps -----------------------------------------------------------------
    def _step(self, authorisation_id: str, step: Step) -> ScaView:
        with self._tx() as (bank, store):
            auth = self._load(bank, store, authorisation_id)
            challenge = self._challenge(bank, store, auth)
            if auth.sca_status.is_final:
                return ScaView(auth, challenge, "This authorisation has already ended.")
            try:
                result = step(bank, auth, challenge)
            except BankRejection as exc:
                return ScaView(auth, challenge, exc.message)
            outcome = StepOutcome(result) if isinstance(result, Authorisation) else result
            self._record(bank, store, outcome.authorisation)
            error = outcome.rejection.message if outcome.rejection else None
            if outcome.rejection is not None and "attempts_left" in outcome.rejection.context:
                left = outcome.rejection.context["attempts_left"]
                error = f"{error}; {left} attempt(s) left"
            return ScaView(outcome.authorisation, challenge, error)

    def log_in(self, authorisation_id: str, psu_id: str, password: str) -> ScaView:
        """The login page's form."""
        now = self.clock()
        return self._step(
            authorisation_id,
            lambda bank, auth, _c: log_in(auth, bank.psu(psu_id), psu_id, password, now),
        )

    def send_code(self, authorisation_id: str) -> ScaView:
        """The PSU chose to receive the SMS code bound to the transaction."""
        now = self.clock()
        return self._step(authorisation_id, lambda _b, auth, _c: send_otp(auth, now))

    def enter_otp(self, authorisation_id: str, otp: str) -> ScaView:
        """The OTP page's form: finalised if the code matches the transaction as it is now."""
        now = self.clock()

        def check(
            bank: BankStore, auth: Authorisation, challenge: TransactionChallenge
        ) -> StepOutcome:
            psu = bank.psu(auth.psu_id or "")
            expected = linked_otp(psu.otp, auth.authorisation_id, challenge) if psu else ""
            return authorise_linked_transaction(auth, expected, otp, now)

        return self._step(authorisation_id, check)

    def cancel(self, authorisation_id: str) -> ScaView:
        """The Cancel button on any of the bank's pages."""
        now = self.clock()
        return self._step(authorisation_id, lambda _b, auth, _c: cancel_by_psu(auth, now))

    # -- decoupled: the bank app ------------------------------------------------------------
    def pending_in_app(self, psu_id: str) -> list[ScaView]:
        """What waits for the PSU's approval in the app, with amount and payee."""
        with self._tx() as (bank, store):
            pending = []
            for auth in ScaStore(bank.conn).pending_in_app(psu_id):
                current = self._load(bank, store, auth.authorisation_id)
                if current.sca_status is ScaStatus.STARTED:
                    pending.append(ScaView(current, self._challenge(bank, store, current)))
            return pending

    def decide_in_app(self, psu_id: str, authorisation_id: str, *, approve: bool) -> ScaView:
        """The PSU approves or rejects in the app."""
        now = self.clock()
        decide = approve_in_app if approve else reject_in_app
        view = self._step(authorisation_id, lambda _b, auth, _c: decide(auth, psu_id, now))
        if view.error is not None:  # another PSU's approval, or one that has ended
            raise StatusInvalid(view.error, location="path")
        return view

    # -- the sandbox phone --------------------------------------------------------------
    def sandbox_otp(self, authorisation_id: str) -> str:
        """The code the bank's SMS carries for this authorisation (sandbox only)."""
        with self._tx() as (bank, store):
            auth = bank.authorisation(authorisation_id)
            if auth is None or auth.psu_id is None:
                raise ResourceUnknown("no such authorisation with a PSU", location="path")
            psu = bank.psu(auth.psu_id)
            assert psu is not None
            return linked_otp(psu.otp, authorisation_id, self._challenge(bank, store, auth))

    def sandbox_sms(self, psu_id: str) -> list[SandboxSms]:
        """The SMS codes sent to the PSU for redirect SCAs still open, newest first."""
        with self._tx() as (bank, store):
            psu = bank.psu(psu_id)
            if psu is None:
                return []
            messages = []
            for auth in ScaStore(bank.conn).awaiting_otp(psu_id):
                challenge = self._challenge(bank, store, auth)
                otp = linked_otp(psu.otp, auth.authorisation_id, challenge)
                messages.append(SandboxSms(auth.authorisation_id, challenge, otp))
            return messages
