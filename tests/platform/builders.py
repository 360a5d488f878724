"""Builders for platform tests: outbox messages with random ids, and ledger activity."""

from __future__ import annotations

import datetime as dt
import uuid

from tests.ledger.builders import open_account, transfer
from twinrail.ledger.domain.model import Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.outbox import OutboxMessage


def message(topic: str = "ledger.transfer_posted", **payload: object) -> OutboxMessage:
    """A message as the relay reads it from the outbox, with a fresh event id."""
    return OutboxMessage(
        event_id=str(uuid.uuid4()),
        topic=topic,
        stream_id=f"transfer:{uuid.uuid4().hex[:8]}",
        stream_version=1,
        payload=dict(payload),
        occurred_at=dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC),
        correlation_id="req-1",
    )


def post_transfers(ledger: LedgerService, count: int) -> None:
    """Open two accounts and post `count` transfers between them (each leaves outbox rows)."""
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    for amount in range(1, count + 1):
        ledger.post_transfer(transfer(cash, customer, amount))
