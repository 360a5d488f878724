"""Steps a single payment and a standing order take alike: the account they are paid from, the
authorisations opened under them and one embedded SCA step on such an authorisation, each in the
caller's transaction; and the base of the payment and periodic services, which own the commit."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import Connection

from twinrail.sandbox.bank.domain.accounts import Account, Transaction, balances_of
from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    ScaPolicy,
    ScaStatus,
    StepOutcome,
    abandon_if_stale,
)
from twinrail.sandbox.bank.domain.errors import ProductInvalid, ResourceUnknown, StatusInvalid
from twinrail.sandbox.bank.domain.payments import payment_product
from twinrail.sandbox.bank.domain.validation import require_object
from twinrail.sandbox.bank.service.bank_service import BankService
from twinrail.sandbox.bank.service.sca_steps import (
    ScaRequest,
    embedded_sca_step,
    open_authorisation,
)
from twinrail.sandbox.bank.store.bank_store import BankStore
from twinrail.sandbox.bank.store.sca_store import ScaStore

__all__ = [
    "PAYABLE_ACCOUNT_TYPES",
    "creditor_iban_exists",
    "available_balance",
    "payable_debtor",
    "holder_of",
    "sca_in_progress",
    "refuse_if_under_way",
    "add_authorisation",
    "own_authorisation",
    "embedded_step",
    "save_step",
    "PaymentResourceService",
]

R = TypeVar("R")  # the payment resource
S = TypeVar("S")  # its store
K = TypeVar("K", bound=str)  # the kinds of its authorisations

PAYABLE_ACCOUNT_TYPES = frozenset({"CACC"})  # savings accounts cannot send SEPA transfers


def creditor_iban_exists(iban: str) -> bool:
    """Whether schwifty accepts the IBAN for its country (length, BBAN structure and checksum)."""
    try:
        IBAN(iban, validate_bban=True)
    except SchwiftyException:
        return False
    return True


def available_balance(account: Account, history: list[Transaction], today: dt.date) -> int:
    """interimAvailable: what the PSU can spend (booked, less pending debits)."""
    return next(b.amount for b in balances_of(account, history, today) if b.balance_type
                == "interimAvailable")  # fmt: skip


def payable_debtor(bank: BankStore, iban: str, product: str) -> Account:
    """The debtor account of an initiation: held at this bank and able to send `product`."""
    debtor = bank.account_by_iban(iban)
    if debtor is None:
        raise ResourceUnknown("the debtor account is not held at this bank")
    if debtor.cash_account_type not in PAYABLE_ACCOUNT_TYPES:
        raise ProductInvalid(f"{product} cannot be made from this account")
    return debtor


def holder_of(bank: BankStore, debtor_account_id: str) -> str | None:
    """The PSU who holds the debtor account, the only one who may authorise on it."""
    account = bank.account(debtor_account_id)
    return account.psu_id if account else None


def sca_in_progress(bank: BankStore, kind: str, resource_id: str, now: dt.datetime) -> bool:
    """Fail (and store) the authorisations of `kind` the PSU left too long; whether one is still
    under way."""
    in_progress = False
    for auth in bank.authorisations_of(kind, resource_id):
        stale = abandon_if_stale(auth, now)
        if stale is not None:
            bank.save_authorisation(stale)
        in_progress = in_progress or (stale is None and not auth.sca_status.is_final)
    return in_progress


def refuse_if_under_way(
    bank: BankStore, kind: str, resource_id: str, now: dt.datetime, busy: str
) -> None:
    """StatusInvalid(`busy`) while an authorisation of `kind` is open (and not abandoned)."""
    if any(
        not a.sca_status.is_final and abandon_if_stale(a, now) is None
        for a in bank.authorisations_of(kind, resource_id)
    ):
        raise StatusInvalid(busy)


def add_authorisation(
    bank: BankStore, policy: ScaPolicy, sca: ScaRequest | None, *, kind: str, resource_id: str,
    tpp_id: str, psu_id: str | None, app_psu_id: str | None, now: dt.datetime,
) -> Authorisation:  # fmt: skip
    """Open an authorisation of `kind` in the approach the bank chooses for `sca`, and store it."""
    auth = open_authorisation(
        policy, sca, kind=kind, resource_id=resource_id, tpp_id=tpp_id, psu_id=psu_id,
        app_psu_id=app_psu_id, now=now,
    )  # fmt: skip
    bank.add_authorisation(auth)
    return auth


def own_authorisation(
    bank: BankStore, authorisation_id: str, kind: str, resource_id: str, missing: str
) -> Authorisation:
    """The authorisation of `kind` under `resource_id`; ResourceUnknown(`missing`) otherwise."""
    auth = bank.authorisation(authorisation_id)
    if auth is None or auth.resource_type != kind or auth.resource_id != resource_id:
        raise ResourceUnknown(missing, location="path")
    return auth


def embedded_step(
    bank: BankStore, auth: Authorisation, data: dict[str, Any], psu_id: str | None,
    now: dt.datetime,
) -> StepOutcome:  # fmt: skip
    """One PUT on an embedded authorisation; one the PSU left too long has failed instead."""
    stale = abandon_if_stale(auth, now)
    if stale is not None:
        return StepOutcome(stale, StatusInvalid("the SCA timed out", location="path"))
    return embedded_sca_step(bank, auth, data, psu_id, now)


def save_step(bank: BankStore, auth: Authorisation) -> None:
    """Store an SCA step; a finalised SCA restarts the PSU's low-value count ("since the last")."""
    bank.save_authorisation(auth)
    if auth.sca_status is ScaStatus.FINALISED and auth.psu_id:
        ScaStore(bank.conn).reset_low_value_counter(auth.psu_id)


class PaymentResourceService(ABC, Generic[R, S, K]):
    """What the services of single payments (R = Payment) and standing orders (R =
    PeriodicPayment) share: the bank's database, clock and SCA policy, a transaction over the
    bank's store and the resource's store `S`, and reading and stepping through the
    authorisations (of kinds `K`) under a resource. Subclasses say how a resource is found and
    what a step does to it."""

    def __init__(self, bank: BankService) -> None:
        self.engine = bank.engine
        self.clock = bank.clock
        self.policy = bank.sca_policy

    @abstractmethod
    def _store(self, conn: Connection) -> S: ...

    @abstractmethod
    def _own(self, store: S, tpp_id: str, product: str, payment_id: str) -> R:
        """The TPP's resource under `product`; ResourceUnknown otherwise."""

    @abstractmethod
    def _own_authorisation(
        self, bank: BankStore, resource: R, authorisation_id: str, kind: K
    ) -> Authorisation:
        """The authorisation of `kind` under `resource`; ResourceUnknown otherwise."""

    @abstractmethod
    def _record_step(
        self, bank: BankStore, store: S, resource: R, auth: Authorisation, now: dt.datetime
    ) -> StatusInvalid | None:
        """Store the step and its effect on the resource; the rejection to report, if any."""

    @contextmanager
    def _tx(self) -> Iterator[tuple[BankStore, S]]:
        with self.engine.connect() as conn, conn.begin():
            yield BankStore(conn), self._store(conn)

    def _embedded_update(
        self, tpp_id: str, product: str, payment_id: str, authorisation_id: str,
        psu_id: str | None, body: Any, kind: K,
    ) -> Authorisation:  # fmt: skip
        """PUT .../authorisations/{id}: one embedded step (password, then OTP) and its effect."""
        now = self.clock()
        data = require_object(body, "body")
        with self._tx() as (bank, store):
            resource = self._own(store, tpp_id, product, payment_id)
            auth = self._own_authorisation(bank, resource, authorisation_id, kind)
            outcome = embedded_step(bank, auth, data, psu_id, now)
            late = self._record_step(bank, store, resource, outcome.authorisation, now)
        # Raised after the commit: a failed step still counts (attempts, timeout, rejection).
        rejection = outcome.rejection or late
        if rejection is not None:
            raise rejection
        return outcome.authorisation

    def authorisations(
        self, tpp_id: str, product: str, payment_id: str, kind: K
    ) -> list[Authorisation]:
        """GET .../{paymentId}/authorisations (or cancellation-authorisations)."""
        payment_product(product)
        with self._tx() as (bank, store):
            self._own(store, tpp_id, product, payment_id)
            return bank.authorisations_of(kind, payment_id)

    def authorisation(
        self, tpp_id: str, product: str, payment_id: str, authorisation_id: str, kind: K
    ) -> Authorisation:
        """GET .../authorisations/{id}: its scaStatus; an abandoned SCA has failed (and had its
        effect on the resource)."""
        payment_product(product)
        now = self.clock()
        with self._tx() as (bank, store):
            resource = self._own(store, tpp_id, product, payment_id)
            auth = self._own_authorisation(bank, resource, authorisation_id, kind)
            stale = abandon_if_stale(auth, now)
            if stale is None:
                return auth
            self._record_step(bank, store, resource, stale, now)
            return stale
