"""Reads and writes of standing orders inside a caller-owned transaction; rows become
`PeriodicPayment` values here and nowhere else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import RowMapping

from twinrail.sandbox.bank.domain.payments import (
    PaymentProduct,
    PaymentRequest,
    RejectReason,
    TransactionStatus,
)
from twinrail.sandbox.bank.domain.periodic import (
    ExecutionRule,
    Frequency,
    PeriodicPayment,
    Schedule,
)
from twinrail.sandbox.bank.store.tables import periodic_payments

__all__ = ["PeriodicStore"]

_REQUEST_FIELDS = (
    "debtor_iban", "amount", "currency", "creditor_iban", "creditor_name", "end_to_end_id",
    "remittance",
)  # fmt: skip


def _periodic(row: RowMapping) -> PeriodicPayment:
    request = PaymentRequest(
        product=PaymentProduct(row["product"]), **{k: row[k] for k in _REQUEST_FIELDS}
    )
    rule, reason = row["execution_rule"], row["reject_reason"]
    schedule = Schedule(
        start_date=row["start_date"],
        end_date=row["end_date"],
        frequency=Frequency(row["frequency"]),
        day_of_execution=row["day_of_execution"],
        execution_rule=ExecutionRule(rule) if rule else None,
    )
    return PeriodicPayment(
        payment_id=row["payment_id"],
        tpp_id=row["tpp_id"],
        request=request,
        schedule=schedule,
        debtor_account_id=row["debtor_account_id"],
        status=TransactionStatus(row["status"]),
        reject_reason=RejectReason(reason) if reason else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        executions=row["executions"],
        last_execution=row["last_execution"],
    )


def _row(payment: PeriodicPayment) -> dict[str, Any]:
    request, schedule = payment.request, payment.schedule
    return {
        "payment_id": payment.payment_id,
        "tpp_id": payment.tpp_id,
        "product": request.product.value,
        **{k: getattr(request, k) for k in _REQUEST_FIELDS},
        "debtor_account_id": payment.debtor_account_id,
        "start_date": schedule.start_date,
        "end_date": schedule.end_date,
        "frequency": schedule.frequency.value,
        "day_of_execution": schedule.day_of_execution,
        "execution_rule": schedule.execution_rule.value if schedule.execution_rule else None,
        "status": payment.status.value,
        "reject_reason": payment.reject_reason.value if payment.reject_reason else None,
        "executions": payment.executions,
        "last_execution": payment.last_execution,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
    }


class PeriodicStore:
    """Standing orders on one open connection (the caller owns the transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, payment: PeriodicPayment) -> None:
        self.conn.execute(insert(periodic_payments).values(**_row(payment)))

    def get(self, payment_id: str) -> PeriodicPayment | None:
        query = select(periodic_payments).where(periodic_payments.c.payment_id == payment_id)
        row = self.conn.execute(query).mappings().first()
        return _periodic(row) if row else None

    def save(self, payment: PeriodicPayment) -> None:
        values = _row(payment)
        payment_id = values.pop("payment_id")
        self.conn.execute(
            update(periodic_payments)
            .where(periodic_payments.c.payment_id == payment_id)
            .values(values)
        )

    def running(self) -> list[PeriodicPayment]:
        """Standing orders the bank still executes (ACTC)."""
        query = select(periodic_payments).where(
            periodic_payments.c.status == TransactionStatus.ACTC.value
        )
        return [_periodic(row) for row in self.conn.execute(query).mappings()]
