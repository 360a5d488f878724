"""Posting transfers: balances, idempotent ids, multi-asset trades, reversals, batches."""

from __future__ import annotations

import pytest

from tests.ledger.builders import open_account, random_id, transfer
from twinrail.ledger.domain.commands import PostTransfer, ReverseTransfer
from twinrail.ledger.domain.errors import (
    AlreadyReversed,
    BatchRejected,
    IdempotencyConflict,
    LimitExceeded,
    NotReversible,
)
from twinrail.ledger.domain.model import Posting, Side
from twinrail.ledger.service.ledger_service import LedgerService


def test_a_transfer_moves_money_between_accounts(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    ledger.post_transfer(transfer(cash, customer, 12_345))
    assert ledger.balance(cash).posted == 12_345
    assert ledger.balance(customer).posted == 12_345


def test_replaying_an_id_with_the_same_body_returns_the_original(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    cmd = transfer(cash, customer, 100)
    first = ledger.post_transfer(cmd)
    again = ledger.post_transfer(cmd)
    assert not first.replayed and again.replayed
    assert again.transfer == first.transfer
    assert ledger.balance(customer).posted == 100


def test_reusing_an_id_with_another_body_is_a_conflict(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    ledger.post_transfer(transfer(cash, customer, 100, transfer_id="same"))
    with pytest.raises(IdempotencyConflict):
        ledger.post_transfer(transfer(cash, customer, 101, transfer_id="same"))
    assert ledger.balance(customer).posted == 100


def test_an_fx_trade_balances_each_asset_on_its_own(ledger: LedgerService):
    eur_cash = open_account(ledger, "EUR", side=Side.DEBIT)
    eur_customer = open_account(ledger, "EUR")
    usdc_pool = open_account(ledger, "USDC", side=Side.DEBIT)
    usdc_customer = open_account(ledger, "USDC")
    ledger.post_transfer(transfer(eur_cash, eur_customer, 10_000))
    trade = PostTransfer(
        id=random_id(),
        postings=(
            Posting(eur_customer, Side.DEBIT, 10_000, "EUR"),
            Posting(eur_cash, Side.CREDIT, 10_000, "EUR"),
            Posting(usdc_pool, Side.DEBIT, 108_500_000, "USDC"),
            Posting(usdc_customer, Side.CREDIT, 108_500_000, "USDC"),
        ),
    )
    ledger.post_transfer(trade)
    assert ledger.balance(eur_customer).posted == 0
    assert ledger.balance(usdc_customer).posted == 108_500_000


def test_wei_amounts_beyond_64_bits_stay_exact(ledger: LedgerService):
    pool = open_account(ledger, "ETH", side=Side.DEBIT)
    wallet = open_account(ledger, "ETH")
    huge = 10**77 + 123_456_789
    ledger.post_transfer(transfer(pool, wallet, huge, "ETH"))
    ledger.post_transfer(transfer(pool, wallet, huge, "ETH"))
    assert ledger.balance(wallet).posted == 2 * huge
    page = ledger.statement(wallet)
    assert [line.balance_after for line in page.lines] == [huge, 2 * huge]


def test_a_reversal_is_a_new_linked_transfer_and_happens_once(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    original = ledger.post_transfer(transfer(cash, customer, 700)).transfer
    reversal = ledger.reverse_transfer(ReverseTransfer(random_id(), original.id)).transfer
    assert reversal.reverses == original.id
    assert ledger.balance(customer).posted == 0
    assert len(ledger.statement(customer).lines) == 2
    with pytest.raises(AlreadyReversed):
        ledger.reverse_transfer(ReverseTransfer(random_id(), original.id))


def test_a_pending_hold_is_voided_not_reversed(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    hold = ledger.post_transfer(transfer(cash, customer, 700, pending=True)).transfer
    with pytest.raises(NotReversible):
        ledger.reverse_transfer(ReverseTransfer(random_id(), hold.id))


def test_a_linked_batch_applies_all_or_nothing(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    good = transfer(cash, customer, 100)
    bad = transfer(customer, cash, 1_000)
    with pytest.raises(BatchRejected) as caught:
        ledger.post_linked_batch([good, bad])
    assert caught.value.index == 1
    assert isinstance(caught.value.cause, LimitExceeded)
    assert ledger.balance(customer).posted == 0
    outcomes = ledger.post_linked_batch([good, transfer(customer, cash, 60)])
    assert len(outcomes) == 2
    assert ledger.balance(customer).posted == 40


def test_bulk_mode_reports_per_item_and_keeps_the_good_ones(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    results = ledger.post_bulk(
        [transfer(cash, customer, 100), transfer(customer, cash, 500), transfer(customer, cash, 30)]
    )
    assert [r.error is None for r in results] == [True, False, True]
    assert isinstance(results[1].error, LimitExceeded)
    assert ledger.balance(customer).posted == 70


def test_balance_as_of_a_past_moment_and_paged_statement(ledger: LedgerService, clock):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    moments = []
    for amount in (100, 200, 300, 400, 500):
        ledger.post_transfer(transfer(cash, customer, amount))
        moments.append(clock.now)
        clock.advance(minutes=1)
    assert ledger.balance(customer, as_of=moments[2]).posted == 600
    assert ledger.balance(customer, as_of=moments[0] - (moments[1] - moments[0])).posted == 0
    seen, cursor = [], None
    while True:
        page = ledger.statement(customer, cursor=cursor, limit=2)
        seen.extend(line.balance_after for line in page.lines)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [100, 300, 600, 1000, 1500]
    window = ledger.statement(customer, start=moments[1], end=moments[3])
    assert [line.entry.amount for line in window.lines] == [200, 300]
    assert window.opening_balance == 100


def test_transfers_by_account_and_time_range_page_in_order(ledger: LedgerService, clock):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger)
    other = open_account(ledger)
    ids = []
    for amount in (1, 2, 3, 4):
        ids.append(ledger.post_transfer(transfer(cash, customer, amount)).transfer.id)
        ledger.post_transfer(transfer(cash, other, amount))
        clock.advance(minutes=1)
    first = ledger.transfers_for_account(customer, limit=3)
    rest = ledger.transfers_for_account(customer, cursor=first.next_cursor, limit=3)
    assert [t.id for t in first.transfers + rest.transfers] == ids
    assert rest.next_cursor is None
    start = ledger.transfer(ids[1]).effective_at
    ranged = ledger.transfers_for_account(
        customer, start=start, end=start + (clock.now - start) / 2
    )
    assert [t.id for t in ranged.transfers] == ids[1:3]


def test_a_replay_returns_the_original_even_when_funds_are_gone(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    merchant = open_account(ledger)
    ledger.post_transfer(transfer(cash, customer, 100))
    purchase = transfer(customer, merchant, 100)
    first = ledger.post_transfer(purchase)
    again = ledger.post_transfer(purchase)
    assert again.replayed and again.transfer == first.transfer
    with pytest.raises(IdempotencyConflict):
        ledger.post_transfer(transfer(customer, merchant, 5_000, transfer_id=purchase.id))
    [result] = ledger.post_bulk([purchase])
    assert result.outcome is not None and result.outcome.replayed


@pytest.mark.postgres
def test_postgresql_refuses_unbalanced_entries_written_behind_the_ledger(
    postgres_database: str,
):
    from sqlalchemy import text

    from twinrail.platform.db import create_db_engine

    engine = create_db_engine(postgres_database)
    with pytest.raises(Exception, match="do not balance"), engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO ledger_entries (transfer_id, account_id, side, amount, asset, "
                "effective_at, reference) VALUES ('forged', 'a', 'debit', 5, 'EUR', now(), ''), "
                "('forged', 'b', 'credit', 4, 'EUR', now(), '')"
            )
        )
    engine.dispose()
