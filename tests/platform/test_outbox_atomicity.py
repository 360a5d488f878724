"""Events leave the ledger only through outbox rows committed with the change they report."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from tests.ledger.builders import open_account, transfer
from twinrail.ledger.domain.errors import BatchRejected, LimitExceeded, UnknownTransfer
from twinrail.ledger.domain.model import Side
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.outbox import outbox


def outbox_rows(engine: Engine) -> list[dict]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(outbox).order_by(outbox.c.id)).mappings()]


def test_a_posted_transfer_leaves_exactly_its_events(ledger: LedgerService, engine: Engine):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    before = len(outbox_rows(engine))
    ledger.post_transfer(transfer(cash, customer, 250, transfer_id="t-outbox-1"))
    new = outbox_rows(engine)[before:]
    assert [(r["topic"], r["stream_id"]) for r in new] == [
        ("ledger.transfer_posted", "transfer:t-outbox-1")
    ]
    assert new[0]["payload"]["transfer_id"] == "t-outbox-1"
    assert new[0]["published_at"] is None


def test_a_placed_hold_leaves_a_hold_placed_event(ledger: LedgerService, engine: Engine):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    before = len(outbox_rows(engine))
    ledger.post_transfer(transfer(cash, customer, 10, transfer_id="h-1", pending=True))
    assert [r["topic"] for r in outbox_rows(engine)[before:]] == ["ledger.hold_placed"]


def test_a_rejected_transfer_leaves_no_outbox_row(ledger: LedgerService, engine: Engine):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    before = outbox_rows(engine)
    with pytest.raises(LimitExceeded):
        ledger.post_transfer(transfer(customer, cash, 1_000))
    assert outbox_rows(engine) == before


def test_a_rejected_linked_batch_leaves_no_outbox_row(ledger: LedgerService, engine: Engine):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    before = outbox_rows(engine)
    with pytest.raises(BatchRejected):
        ledger.post_linked_batch([transfer(cash, customer, 100), transfer(customer, cash, 500)])
    assert outbox_rows(engine) == before


def test_a_replayed_transfer_adds_no_outbox_row(ledger: LedgerService, engine: Engine):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    cmd = transfer(cash, customer, 100)
    ledger.post_transfer(cmd)
    before = outbox_rows(engine)
    assert ledger.post_transfer(cmd).replayed
    assert outbox_rows(engine) == before


def test_a_commit_that_fails_after_the_outbox_insert_keeps_neither_change_nor_event(
    ledger: LedgerService, engine: Engine, monkeypatch: pytest.MonkeyPatch
):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    before = outbox_rows(engine)

    from twinrail.platform import bulk

    def write_then_fail(*args: object) -> None:
        bulk.write_all(*args)  # type: ignore[arg-type]
        raise RuntimeError("connection lost before COMMIT")

    # The unit of work writes state, outbox and audit rows, then commits; fail in between.
    monkeypatch.setattr("twinrail.platform.uow.write_and_commit", write_then_fail)
    with pytest.raises(RuntimeError):
        ledger.post_transfer(transfer(cash, customer, 100, transfer_id="t-lost"))
    monkeypatch.undo()
    assert outbox_rows(engine) == before
    with pytest.raises(UnknownTransfer):
        ledger.transfer("t-lost")
    assert ledger.balance(customer).posted == 0
