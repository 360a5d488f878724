"""Reads and writes of payments, and of the debtor entries they make, inside a caller-owned
transaction; rows become `Payment` values here and nowhere else."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.engine import RowMapping

from twinrail.sandbox.bank.domain.accounts import BookingStatus
from twinrail.sandbox.bank.domain.payments import (
    Payment,
    PaymentProduct,
    PaymentRequest,
    RejectReason,
    TransactionStatus,
)
from twinrail.sandbox.bank.store.tables import payments, transactions

__all__ = ["PaymentStore"]

_REQUEST_FIELDS = (
    "debtor_iban", "amount", "currency", "creditor_iban", "creditor_name", "end_to_end_id",
    "remittance",
)  # fmt: skip


def _payment(row: RowMapping) -> Payment:
    request = PaymentRequest(
        product=PaymentProduct(row["product"]), **{k: row[k] for k in _REQUEST_FIELDS}
    )
    reason = row["reject_reason"]
    return Payment(
        payment_id=row["payment_id"],
        tpp_id=row["tpp_id"],
        request=request,
        debtor_account_id=row["debtor_account_id"],
        status=TransactionStatus(row["status"]),
        reject_reason=RejectReason(reason) if reason else None,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        settle_at=row["settle_at"],
        entry_id=row["entry_id"],
    )


def _row(payment: Payment) -> dict[str, Any]:
    request = payment.request
    return {
        "payment_id": payment.payment_id,
        "tpp_id": payment.tpp_id,
        "product": request.product.value,
        **{k: getattr(request, k) for k in _REQUEST_FIELDS},
        "debtor_account_id": payment.debtor_account_id,
        "status": payment.status.value,
        "reject_reason": payment.reject_reason.value if payment.reject_reason else None,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
        "settle_at": payment.settle_at,
        "entry_id": payment.entry_id,
    }


class PaymentStore:
    """Payments on one open connection (the caller owns the transaction)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, payment: Payment) -> None:
        self.conn.execute(insert(payments).values(**_row(payment)))

    def get(self, payment_id: str) -> Payment | None:
        query = select(payments).where(payments.c.payment_id == payment_id)
        row = self.conn.execute(query).mappings().first()
        return _payment(row) if row else None

    def save(self, payment: Payment) -> None:
        values = _row(payment)
        payment_id = values.pop("payment_id")
        self.conn.execute(
            update(payments).where(payments.c.payment_id == payment_id).values(values)
        )

    def due(self, now: dt.datetime) -> list[Payment]:
        """Accepted payments whose settlement time has come."""
        query = select(payments).where(
            payments.c.status == TransactionStatus.ACTC.value, payments.c.settle_at <= now
        )
        return [_payment(row) for row in self.conn.execute(query).mappings()]

    def book_entry(self, entry_id: str, booking_date: dt.date) -> None:
        """Turn the pending debtor entry into a booked one."""
        self.conn.execute(
            update(transactions)
            .where(transactions.c.transaction_id == entry_id)
            .values(status=BookingStatus.BOOKED.value, booking_date=booking_date)
        )

    def add_to_entry_amount(self, entry_id: str, delta: int) -> None:
        """Change an entry's amount by `delta` minor units (quirk: booked differs from pending)."""
        self.conn.execute(
            update(transactions)
            .where(transactions.c.transaction_id == entry_id)
            .values(amount=transactions.c.amount + delta)
        )

    def drop_entry(self, entry_id: str) -> None:
        """Remove a pending entry whose payment was cancelled before execution."""
        self.conn.execute(
            delete(transactions).where(
                transactions.c.transaction_id == entry_id,
                transactions.c.status == BookingStatus.PENDING.value,
            )
        )
