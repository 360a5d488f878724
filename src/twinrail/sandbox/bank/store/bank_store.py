"""Reads and writes of the bank's tables inside one caller-owned transaction; rows become
frozen domain dataclasses here and nowhere else."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from twinrail.sandbox.bank.domain.accounts import Account, BookingStatus, Psu, Transaction
from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach, ScaStatus
from twinrail.sandbox.bank.domain.consents import Consent, ConsentAccess, ConsentStatus
from twinrail.sandbox.bank.store.tables import (
    accounts,
    authorisations,
    bank_metadata,
    consent_usage,
    consents,
    psus,
    transactions,
)

__all__ = ["BankStore", "create_schema", "reset_schema"]


def create_schema(engine: Engine) -> None:
    """Create the bank's tables if they are missing."""
    bank_metadata.create_all(engine)


def reset_schema(engine: Engine) -> None:
    """Drop and re-create every bank table (seed starts from nothing)."""
    bank_metadata.drop_all(engine)
    bank_metadata.create_all(engine)


def _access_to_row(access: ConsentAccess | None) -> dict[str, Any] | None:
    return dataclasses.asdict(access) if access is not None else None


def _access_from_row(data: dict[str, Any] | None) -> ConsentAccess | None:
    if data is None:
        return None
    lists = {k: tuple(data.get(k) or ()) for k in ("accounts", "balances", "transactions")}
    return ConsentAccess(
        **lists,
        available_accounts=data.get("available_accounts"),
        available_accounts_with_balance=data.get("available_accounts_with_balance"),
        all_psd2=data.get("all_psd2"),
    )


def _consent(row: RowMapping) -> Consent:
    requested = _access_from_row(row["requested"])
    assert requested is not None
    return Consent(
        consent_id=row["consent_id"],
        tpp_id=row["tpp_id"],
        psu_id=row["psu_id"],
        status=ConsentStatus(row["status"]),
        requested=requested,
        granted=_access_from_row(row["granted"]),
        recurring=row["recurring"],
        valid_until=row["valid_until"],
        frequency_per_day=row["frequency_per_day"],
        combined_service=row["combined_service"],
        created_at=row["created_at"],
        last_action_date=row["last_action_date"],
        sca_at=row["sca_at"],
    )


def _consent_row(consent: Consent) -> dict[str, Any]:
    row = {f.name: getattr(consent, f.name) for f in dataclasses.fields(consent)}
    row["status"] = consent.status.value
    row["requested"] = _access_to_row(consent.requested)
    row["granted"] = _access_to_row(consent.granted)
    return row


def _authorisation(row: RowMapping) -> Authorisation:
    return Authorisation(
        **{**row, "sca_status": ScaStatus(row["sca_status"]),
           "sca_approach": ScaApproach(row["sca_approach"])}
    )  # fmt: skip


def _authorisation_row(auth: Authorisation) -> dict[str, Any]:
    row = dataclasses.asdict(auth)
    row["sca_status"] = auth.sca_status.value
    row["sca_approach"] = auth.sca_approach.value
    return row


class BankStore:
    """The bank's persistence on one open connection (the caller owns the transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    # -- PSUs and accounts -------------------------------------------------------------
    def add_psu(self, psu: Psu) -> None:
        self.conn.execute(insert(psus).values(**dataclasses.asdict(psu)))

    def psu(self, psu_id: str) -> Psu | None:
        row = self.conn.execute(select(psus).where(psus.c.psu_id == psu_id)).mappings().first()
        return Psu(**row) if row else None

    def add_account(self, account: Account) -> None:
        self.conn.execute(insert(accounts).values(**dataclasses.asdict(account)))

    def account(self, resource_id: str) -> Account | None:
        query = select(accounts).where(accounts.c.resource_id == resource_id)
        row = self.conn.execute(query).mappings().first()
        return Account(**row) if row else None

    def account_by_iban(self, iban: str) -> Account | None:
        row = self.conn.execute(select(accounts).where(accounts.c.iban == iban)).mappings().first()
        return Account(**row) if row else None

    def accounts_of(self, psu_id: str) -> list[Account]:
        query = select(accounts).where(accounts.c.psu_id == psu_id).order_by(accounts.c.iban)
        return [Account(**row) for row in self.conn.execute(query).mappings()]

    def add_transactions(self, items: list[Transaction]) -> None:
        if not items:
            return
        rows = [{**dataclasses.asdict(t), "status": t.status.value} for t in items]
        self.conn.execute(insert(transactions), rows)

    def transactions_of(self, account_id: str) -> list[Transaction]:
        query = select(transactions).where(transactions.c.account_id == account_id)
        return [
            Transaction(**{**row, "status": BookingStatus(row["status"])})
            for row in self.conn.execute(query).mappings()
        ]

    # -- consents ----------------------------------------------------------------------
    def add_consent(self, consent: Consent) -> None:
        self.conn.execute(insert(consents).values(**_consent_row(consent)))

    def consent(self, consent_id: str) -> Consent | None:
        query = select(consents).where(consents.c.consent_id == consent_id)
        row = self.conn.execute(query).mappings().first()
        return _consent(row) if row else None

    def save_consent(self, consent: Consent) -> None:
        values = _consent_row(consent)
        consent_id = values.pop("consent_id")
        self.conn.execute(
            update(consents).where(consents.c.consent_id == consent_id).values(values)
        )

    def recurring_consents(self, tpp_id: str, psu_id: str) -> list[Consent]:
        query = select(consents).where(
            consents.c.tpp_id == tpp_id,
            consents.c.psu_id == psu_id,
            consents.c.recurring.is_(True),
            consents.c.status == ConsentStatus.VALID.value,
        )
        return [_consent(row) for row in self.conn.execute(query).mappings()]

    def usage(self, consent_id: str, day: dt.date, key: str) -> int:
        query = select(consent_usage.c.count).where(
            consent_usage.c.consent_id == consent_id,
            consent_usage.c.day == day,
            consent_usage.c.access_key == key,
        )
        return self.conn.execute(query).scalar() or 0

    def count_usage(self, consent_id: str, day: dt.date, key: str) -> None:
        where = (
            (consent_usage.c.consent_id == consent_id)
            & (consent_usage.c.day == day)
            & (consent_usage.c.access_key == key)
        )
        done = self.conn.execute(
            update(consent_usage).where(where).values(count=consent_usage.c.count + 1)
        )
        if done.rowcount == 0:
            self.conn.execute(
                insert(consent_usage).values(
                    consent_id=consent_id, day=day, access_key=key, count=1
                )
            )

    # -- authorisations ----------------------------------------------------------------
    def add_authorisation(self, auth: Authorisation) -> None:
        self.conn.execute(insert(authorisations).values(**_authorisation_row(auth)))

    def authorisation(self, authorisation_id: str) -> Authorisation | None:
        query = select(authorisations).where(authorisations.c.authorisation_id == authorisation_id)
        row = self.conn.execute(query).mappings().first()
        return _authorisation(row) if row else None

    def authorisations_of(self, resource_type: str, resource_id: str) -> list[Authorisation]:
        query = (
            select(authorisations)
            .where(
                authorisations.c.resource_type == resource_type,
                authorisations.c.resource_id == resource_id,
            )
            .order_by(authorisations.c.created_at, authorisations.c.authorisation_id)
        )
        return [_authorisation(row) for row in self.conn.execute(query).mappings()]

    def save_authorisation(self, auth: Authorisation) -> None:
        values = _authorisation_row(auth)
        auth_id = values.pop("authorisation_id")
        self.conn.execute(
            update(authorisations)
            .where(authorisations.c.authorisation_id == auth_id)
            .values(values)
        )

    def delete_everything(self) -> None:
        for table in reversed(bank_metadata.sorted_tables):
            self.conn.execute(delete(table))
