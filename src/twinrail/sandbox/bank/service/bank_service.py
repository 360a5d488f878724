"""The sandbox bank's application layer: one method per Berlin Group operation, each owning its
transaction (`with self._tx() as store: load -> domain rule -> save`)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, inspect

from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.sandbox.bank.domain.accounts import Account, Balance, Transaction, balances_of
from twinrail.sandbox.bank.domain.authorisation import (
    Authorisation,
    ScaApproach,
    ScaPolicy,
    ScaStatus,
    StepOutcome,
    abandon_if_stale,
)
from twinrail.sandbox.bank.domain.consents import (
    AccessKind,
    Consent,
    ConsentAccess,
    ConsentStatus,
    check_access,
    check_frequency,
    parse_consent_request,
    usage_key,
)
from twinrail.sandbox.bank.domain.errors import (
    ConsentInvalid,
    ConsentUnknown,
    PsuCredentialsInvalid,
    ResourceUnknown,
    StatusInvalid,
)
from twinrail.sandbox.bank.domain.reports import ReportPage, ReportQuery, report_page
from twinrail.sandbox.bank.domain.validation import require_object
from twinrail.sandbox.bank.service.sca_steps import (
    ScaRequest,
    approach_for,
    embedded_sca_step,
    open_authorisation,
)
from twinrail.sandbox.bank.service.seed import TRUSTED_BENEFICIARIES, seed_data
from twinrail.sandbox.bank.store.bank_store import BankStore, create_schema, reset_schema
from twinrail.sandbox.bank.store.sca_store import ScaStore
from twinrail.sandbox.bank.store.tables import bank_metadata

__all__ = ["BankService", "AccountView", "AisRequest"]


@dataclass(frozen=True)
class AccountView:
    """An account as the TPP may see it, with balances when asked for and allowed."""

    account: Account
    balances: list[Balance] | None
    can_read_balances: bool = False
    can_read_transactions: bool = False


@dataclass(frozen=True)
class AisRequest:
    """Who asks for account data under which consent, and whether the PSU is present."""

    tpp_id: str
    consent_id: str
    psu_present: bool


class BankService:
    """The bank's operations over its own database, judged at the time `clock` tells."""

    def __init__(
        self, engine: Engine, *, clock: Clock = utc_now, sca_policy: ScaPolicy | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.sca_policy = sca_policy or ScaPolicy()
        create_schema(engine)

    @contextmanager
    def _tx(self, *, read_only: bool = False) -> Iterator[BankStore]:
        # PSU-present AIS reads write nothing (no frequency count) and so run beside the writer.
        conn = self.engine.connect()
        if read_only:
            conn = conn.execution_options(**READ_ONLY)
        try:
            with conn.begin():
                yield BankStore(conn)
        finally:
            conn.close()

    # -- seeding -------------------------------------------------------------------------
    def is_seeded(self) -> bool:
        """Whether the database holds the seeded PSUs in the tables' current layout (a bank
        database from an older version lacks columns: it is seeded again, not migrated)."""
        found = inspect(self.engine)
        for table in bank_metadata.sorted_tables:
            columns = {c["name"] for c in found.get_columns(table.name)}
            if not {c.name for c in table.columns} <= columns:
                return False
        with self._tx(read_only=True) as store:
            return store.psu("alice") is not None

    def seed(self) -> dict[str, int]:
        """Drop everything and load the seeded PSUs, accounts and history as of today."""
        reset_schema(self.engine)
        psus, accounts, transactions = seed_data(self.clock().date())
        with self._tx() as store:
            for psu in psus:
                store.add_psu(psu)
            for account in accounts:
                store.add_account(account)
            store.add_transactions(transactions)
            sca = ScaStore(store.conn)
            for psu_id, ibans in TRUSTED_BENEFICIARIES.items():
                for iban in ibans:
                    sca.add_trusted_beneficiary(psu_id, iban)
        return {"psus": len(psus), "accounts": len(accounts), "transactions": len(transactions)}

    # -- consents ------------------------------------------------------------------------
    def create_consent(self, tpp_id: str, psu_id: str | None, body: Any) -> Consent:
        """POST /v1/consents: a new consent in status `received`."""
        return self.create_consent_with_sca(tpp_id, psu_id, body)[0]

    def create_consent_with_sca(
        self, tpp_id: str, psu_id: str | None, body: Any, sca: ScaRequest | None = None
    ) -> tuple[Consent, Authorisation | None]:
        """POST /v1/consents with the TPP's SCA headers: the consent and, for redirect or
        decoupled, its authorisation opened at once; nothing is stored if either is refused."""
        now = self.clock()
        request = parse_consent_request(body, now.date())
        approach = approach_for(self.sca_policy, sca)
        consent = Consent(
            consent_id=f"cns-{uuid.uuid4().hex}",
            tpp_id=tpp_id,
            psu_id=psu_id or None,
            status=ConsentStatus.RECEIVED,
            requested=request.access,
            granted=None,
            recurring=request.recurring,
            valid_until=request.valid_until,
            frequency_per_day=request.frequency_per_day,
            combined_service=request.combined_service,
            created_at=now,
            last_action_date=now.date(),
            sca_at=None,
        )
        with self._tx() as store:
            store.add_consent(consent)
            if approach is ScaApproach.EMBEDDED:
                return consent, None
            auth = open_authorisation(
                self.sca_policy, sca, kind="consent", resource_id=consent.consent_id,
                tpp_id=tpp_id, psu_id=consent.psu_id, app_psu_id=self._holder_of(store, consent),
                now=now,
            )  # fmt: skip
            store.add_authorisation(auth)
        return consent, auth

    def consent(self, tpp_id: str, consent_id: str) -> Consent:
        """GET /v1/consents/{id}: the consent with its status as of now."""
        with self._tx(read_only=True) as store:
            return self._own_consent(store, tpp_id, consent_id, location="path")

    def delete_consent(self, tpp_id: str, consent_id: str) -> None:
        """DELETE /v1/consents/{id}: the TPP terminates the consent."""
        now = self.clock()
        with self._tx() as store:
            consent = self._own_consent(store, tpp_id, consent_id, location="path")
            store.save_consent(consent.terminate_by_tpp(now))

    def revoke_by_psu(self, consent_id: str) -> None:
        """The PSU revokes a consent at the bank (online banking; used by tests and pages)."""
        now = self.clock()
        with self._tx() as store:
            consent = store.consent(consent_id)
            if consent is None:
                raise ConsentUnknown("no such consent", location="path")
            if consent.status_at(now).is_final:
                raise StatusInvalid("consent is already final")
            store.save_consent(
                replace(consent, status=ConsentStatus.REVOKED_BY_PSU, last_action_date=now.date())
            )

    def _own_consent(
        self, store: BankStore, tpp_id: str, consent_id: str, *, location: Any
    ) -> Consent:
        consent = store.consent(consent_id)
        # Another TPP's consent is as unknown to this TPP as a consent that never existed.
        if consent is None or consent.tpp_id != tpp_id:
            raise ConsentUnknown("no such consent for this TPP", location=location)
        return consent

    # -- authorisations (embedded, minimal SCA) ------------------------------------------
    def start_consent_authorisation(
        self,
        tpp_id: str,
        consent_id: str,
        psu_id: str | None,
        body: Any,
        sca: ScaRequest | None = None,
    ) -> Authorisation:
        """POST /v1/consents/{id}/authorisations in the approach the bank chooses for `sca`;
        embedded, optionally with the PSU's password already."""
        now = self.clock()
        with self._tx() as store:
            consent = self._own_consent(store, tpp_id, consent_id, location="path")
            if consent.status_at(now) is not ConsentStatus.RECEIVED:
                raise StatusInvalid("consent is not awaiting authorisation")
            if psu_id and consent.psu_id and psu_id != consent.psu_id:
                # The consent was requested for one PSU; another cannot authorise it.
                raise PsuCredentialsInvalid(
                    "PSU-ID differs from the consent's PSU", location="header"
                )
            auth = open_authorisation(
                self.sca_policy, sca, kind="consent", resource_id=consent_id, tpp_id=tpp_id,
                psu_id=psu_id or consent.psu_id, app_psu_id=self._holder_of(store, consent),
                now=now,
            )  # fmt: skip
            store.add_authorisation(auth)
        if body and auth.sca_approach is ScaApproach.EMBEDDED:
            return self.update_consent_authorisation(
                tpp_id, consent_id, auth.authorisation_id, psu_id, body
            )
        return auth

    def update_consent_authorisation(
        self, tpp_id: str, consent_id: str, authorisation_id: str, psu_id: str | None, body: Any
    ) -> Authorisation:
        """PUT .../authorisations/{id}: password first, then the OTP; finalising validates."""
        now = self.clock()
        data = require_object(body, "body")
        with self._tx() as store:
            consent = self._own_consent(store, tpp_id, consent_id, location="path")
            auth = self._own_authorisation(store, consent, authorisation_id)
            stale = abandon_if_stale(auth, now)
            if stale is not None:
                timed_out = StatusInvalid("the SCA timed out", location="path")
                outcome = StepOutcome(stale, timed_out)
            else:
                outcome = embedded_sca_step(store, auth, data, psu_id, now)
            self._record_step(store, consent, outcome.authorisation, now)
        # Raised after the commit: a failed step still counts (attempts, timeout, rejection).
        if outcome.rejection is not None:
            raise outcome.rejection
        return outcome.authorisation

    def _holder_of(self, store: BankStore, consent: Consent) -> str | None:
        # The PSU whose bank app gets a decoupled approval: the one holding the first account.
        for kind in (AccessKind.ACCOUNTS, AccessKind.BALANCES, AccessKind.TRANSACTIONS):
            for iban in sorted(consent.requested.ibans(kind)):
                account = store.account_by_iban(iban)
                if account is not None:
                    return account.psu_id
        return None

    def record_sca_step(self, store: BankStore, auth: Authorisation, now: dt.datetime) -> None:
        """Store a step of a consent's authorisation taken on the PSU's pages, with its effect
        on the consent (valid when finalised, rejected when failed)."""
        consent = store.consent(auth.resource_id)
        if consent is None:
            raise ConsentUnknown("no such consent", location="path")
        self._record_step(store, consent, auth, now)

    def _record_step(
        self, store: BankStore, consent: Consent, auth: Authorisation, now: dt.datetime
    ) -> None:
        store.save_authorisation(auth)
        if auth.sca_status is ScaStatus.FINALISED:
            self._grant(store, consent, auth, now)
        elif auth.sca_status is ScaStatus.FAILED and consent.status is ConsentStatus.RECEIVED:
            store.save_consent(consent.reject(now))

    def _grant(
        self, store: BankStore, consent: Consent, auth: Authorisation, now: dt.datetime
    ) -> None:
        psu_id = auth.psu_id or ""
        owned = {a.iban for a in store.accounts_of(psu_id)}
        requested = consent.requested
        if not requested.ibans(AccessKind.ACCOUNTS) <= owned:
            # The PSU cannot grant access to accounts that are not theirs: the consent fails.
            store.save_consent(consent.reject(now))
            return
        granted = requested
        if requested.is_bank_offered or requested.all_psd2:
            every = tuple(sorted(owned))
            granted = ConsentAccess(every, every, every, all_psd2=requested.all_psd2)
        # Spec side effect: a new recurring consent ends the PSU's former one with this TPP.
        if consent.recurring:
            for former in store.recurring_consents(consent.tpp_id, psu_id):
                if former.consent_id != consent.consent_id:
                    store.save_consent(former.expire(now))
        store.save_consent(consent.authorise(granted, psu_id, now))

    def _own_authorisation(
        self, store: BankStore, consent: Consent, authorisation_id: str
    ) -> Authorisation:
        auth = store.authorisation(authorisation_id)
        if auth is None or auth.resource_id != consent.consent_id:
            raise ResourceUnknown("no such authorisation for this consent", location="path")
        return auth

    def consent_authorisations(self, tpp_id: str, consent_id: str) -> list[Authorisation]:
        """GET /v1/consents/{id}/authorisations."""
        with self._tx(read_only=True) as store:
            self._own_consent(store, tpp_id, consent_id, location="path")
            return store.authorisations_of("consent", consent_id)

    def consent_authorisation(
        self, tpp_id: str, consent_id: str, authorisation_id: str
    ) -> Authorisation:
        """GET /v1/consents/{id}/authorisations/{authorisationId}; an abandoned SCA has failed."""
        now = self.clock()
        with self._tx() as store:
            consent = self._own_consent(store, tpp_id, consent_id, location="path")
            auth = self._own_authorisation(store, consent, authorisation_id)
            stale = abandon_if_stale(auth, now)
            if stale is None:
                return auth
            self._record_step(store, consent, stale, now)
            return stale

    # -- account information -------------------------------------------------------------
    def _authorise_access(
        self, store: BankStore, req: AisRequest, kind: AccessKind, account_id: str | None
    ) -> tuple[Consent, Account | None]:
        now = self.clock()
        consent = self._own_consent(store, req.tpp_id, req.consent_id, location="header")
        check_access(consent, kind, None, now)
        account = None
        if account_id is not None:
            account = store.account(account_id)
            if account is None:
                raise ResourceUnknown("no such account", location="path")
            check_access(consent, kind, account.iban, now)
        if not req.psu_present:
            key = usage_key(kind, account_id)
            check_frequency(consent, store.usage(consent.consent_id, now.date(), key))
            store.count_usage(consent.consent_id, now.date(), key)
        return consent, account

    def _view(
        self, store: BankStore, consent: Consent, account: Account, with_balance: bool
    ) -> AccountView:
        granted = consent.granted or ConsentAccess()
        balances = None
        if with_balance:
            history = store.transactions_of(account.resource_id)
            balances = balances_of(account, history, self.clock().date())
        return AccountView(
            account,
            balances,
            can_read_balances=account.iban in granted.ibans(AccessKind.BALANCES),
            can_read_transactions=account.iban in granted.ibans(AccessKind.TRANSACTIONS),
        )

    def list_accounts(self, req: AisRequest, *, with_balance: bool) -> list[AccountView]:
        """GET /v1/accounts: the accounts the consent covers."""
        with self._tx(read_only=req.psu_present) as store:
            consent, _ = self._authorise_access(store, req, AccessKind.ACCOUNTS, None)
            granted = consent.granted
            assert granted is not None
            listed = granted.ibans(AccessKind.ACCOUNTS)
            if granted.is_global:
                listed = frozenset(a.iban for a in store.accounts_of(consent.psu_id or ""))
            with_balances_ok = granted.available_accounts_with_balance or granted.all_psd2
            if (
                with_balance
                and not with_balances_ok
                and not listed <= granted.ibans(AccessKind.BALANCES)
            ):
                raise ConsentInvalid("consent does not cover the balances of every listed account")
            accounts = [a for a in store.accounts_of(consent.psu_id or "") if a.iban in listed]
            return [self._view(store, consent, a, with_balance) for a in accounts]

    def account_details(
        self, req: AisRequest, account_id: str, *, with_balance: bool
    ) -> AccountView:
        """GET /v1/accounts/{id}."""
        with self._tx(read_only=req.psu_present) as store:
            consent, account = self._authorise_access(store, req, AccessKind.ACCOUNTS, account_id)
            assert account is not None and consent.granted is not None
            if with_balance and account.iban not in consent.granted.ibans(AccessKind.BALANCES):
                raise ConsentInvalid("consent does not cover this account's balances")
            return self._view(store, consent, account, with_balance)

    def balances(self, req: AisRequest, account_id: str) -> AccountView:
        """GET /v1/accounts/{id}/balances."""
        with self._tx(read_only=req.psu_present) as store:
            consent, account = self._authorise_access(store, req, AccessKind.BALANCES, account_id)
            assert account is not None
            return self._view(store, consent, account, True)

    def transactions(
        self, req: AisRequest, account_id: str, query: ReportQuery, *, with_balance: bool
    ) -> tuple[AccountView, ReportPage]:
        """GET /v1/accounts/{id}/transactions: one page of the filtered report."""
        with self._tx(read_only=req.psu_present) as store:
            consent, account = self._authorise_access(
                store, req, AccessKind.TRANSACTIONS, account_id
            )
            assert account is not None and consent.granted is not None
            if with_balance and account.iban not in consent.granted.ibans(AccessKind.BALANCES):
                raise ConsentInvalid("consent does not cover this account's balances")
            items: list[Transaction] = store.transactions_of(account_id)
            return self._view(store, consent, account, with_balance), report_page(items, query)

    def transaction_details(
        self, req: AisRequest, account_id: str, transaction_id: str
    ) -> tuple[Account, Transaction]:
        """GET /v1/accounts/{id}/transactions/{transactionId}."""
        with self._tx(read_only=req.psu_present) as store:
            _, account = self._authorise_access(store, req, AccessKind.TRANSACTIONS, account_id)
            assert account is not None
            found = [
                t for t in store.transactions_of(account_id) if t.transaction_id == transaction_id
            ]
            if not found:
                raise ResourceUnknown("no such transaction on this account", location="path")
            return account, found[0]
