"""What SCA decisions read beyond one authorisation: exemption counters, trusted beneficiaries,
earlier authorised payments, and the decoupled approvals waiting in a PSU's bank app."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, exists, insert, select, update

from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach, ScaStatus
from twinrail.sandbox.bank.domain.exemptions import LowValueCounter
from twinrail.sandbox.bank.store.bank_store import BankStore
from twinrail.sandbox.bank.store.tables import (
    authorisations,
    low_value_counters,
    payments,
    trusted_beneficiaries,
)

__all__ = ["ScaStore"]

_ACCEPTED = ("ACTC", "ACSC", "ACCC")


class ScaStore:
    """SCA bookkeeping on one open connection (the caller owns the transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def low_value_counter(self, psu_id: str) -> LowValueCounter:
        query = select(low_value_counters).where(low_value_counters.c.psu_id == psu_id)
        row = self.conn.execute(query).mappings().first()
        return LowValueCounter(row["count"], row["total"]) if row else LowValueCounter()

    def save_low_value_counter(self, psu_id: str, counter: LowValueCounter) -> None:
        where = low_value_counters.c.psu_id == psu_id
        values = {"count": counter.count, "total": counter.total}
        if self.conn.execute(update(low_value_counters).where(where).values(values)).rowcount:
            return
        self.conn.execute(insert(low_value_counters).values(psu_id=psu_id, **values))

    def reset_low_value_counter(self, psu_id: str) -> None:
        """A completed SCA starts the count again."""
        self.conn.execute(delete(low_value_counters).where(low_value_counters.c.psu_id == psu_id))

    def add_trusted_beneficiary(self, psu_id: str, iban: str) -> None:
        self.conn.execute(insert(trusted_beneficiaries).values(psu_id=psu_id, iban=iban))

    def trusted_ibans(self, psu_id: str) -> frozenset[str]:
        query = select(trusted_beneficiaries.c.iban).where(trusted_beneficiaries.c.psu_id == psu_id)
        return frozenset(self.conn.execute(query).scalars())

    def has_authorised_twin(
        self, debtor_account_id: str, creditor_iban: str, amount: int, currency: str
    ) -> bool:
        """Whether an earlier payment with the same debtor, payee and amount passed an SCA."""
        # Single payments only: a standing order's own executions need no SCA anyway, and its
        # creation is never exempted (RTS art. 14), nor does it exempt a one-off payment.
        finalised_sca = exists().where(
            authorisations.c.resource_type == "payment",
            authorisations.c.resource_id == payments.c.payment_id,
            authorisations.c.sca_status == ScaStatus.FINALISED.value,
        )
        query = select(payments.c.payment_id).where(
            and_(
                payments.c.debtor_account_id == debtor_account_id,
                payments.c.creditor_iban == creditor_iban,
                payments.c.amount == amount,
                payments.c.currency == currency,
                payments.c.status.in_(_ACCEPTED),
                finalised_sca,
            )
        )
        return self.conn.execute(query.limit(1)).first() is not None

    def pending_in_app(self, psu_id: str) -> list[Authorisation]:
        """Decoupled authorisations pushed to the PSU's app and not yet decided, oldest first."""
        oldest_first = authorisations.c.created_at
        return self._of_psu(psu_id, ScaApproach.DECOUPLED, ScaStatus.STARTED, oldest_first)

    def awaiting_otp(self, psu_id: str) -> list[Authorisation]:
        """Redirect authorisations whose SMS code was sent to the PSU and not yet used."""
        latest_first = authorisations.c.updated_at.desc()
        return self._of_psu(
            psu_id, ScaApproach.REDIRECT, ScaStatus.SCA_METHOD_SELECTED, latest_first
        )

    def _of_psu(
        self, psu_id: str, approach: ScaApproach, status: ScaStatus, order: ColumnElement[Any]
    ) -> list[Authorisation]:
        query = (
            select(authorisations.c.authorisation_id)
            .where(
                authorisations.c.psu_id == psu_id,
                authorisations.c.sca_approach == approach.value,
                authorisations.c.sca_status == status.value,
            )
            .order_by(order)
        )
        bank = BankStore(self.conn)
        found = (bank.authorisation(i) for i in self.conn.execute(query).scalars())
        return [a for a in found if a is not None]
