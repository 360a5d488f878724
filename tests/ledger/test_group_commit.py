"""Bulk commands and group commit: holds, posts and voids from many callers share commits."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.ledger.builders import open_account, random_id, transfer
from twinrail.ledger.domain.commands import PostPendingTransfer, VoidPendingTransfer
from twinrail.ledger.domain.errors import HoldNotPending, UnknownTransfer
from twinrail.ledger.domain.model import Side, TransferStatus
from twinrail.ledger.service.group_commit import GroupCommitter
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.uow import Origin


def test_a_bulk_batch_mixes_new_transfers_posts_and_voids_each_on_its_merits(
    ledger: LedgerService,
):
    cash = open_account(ledger, side=Side.DEBIT)
    alice = open_account(ledger, no_overdraft=True)
    bob = open_account(ledger)
    ledger.post_transfer(transfer(cash, alice, 1_000))
    to_post = transfer(alice, bob, 300, pending=True)
    to_void = transfer(alice, bob, 200, pending=True)
    ledger.post_transfer(to_post)
    ledger.post_transfer(to_void)
    new = transfer(alice, bob, 100)

    results = ledger.post_bulk(
        [
            PostPendingTransfer(to_post.id),
            VoidPendingTransfer(to_void.id),
            PostPendingTransfer("no-such-hold"),
            new,
            PostPendingTransfer(to_void.id),  # voided a moment ago, in this very batch
        ]
    )

    assert results[0].outcome is not None
    assert results[0].outcome.transfer.status is TransferStatus.POSTED
    assert results[1].outcome is not None
    assert results[1].outcome.transfer.status is TransferStatus.VOIDED
    assert isinstance(results[2].error, UnknownTransfer)
    assert results[3].outcome is not None and not results[3].outcome.replayed
    assert isinstance(results[4].error, HoldNotPending)
    assert ledger.balance(bob).posted == 400
    assert ledger.balance(alice).posted == 600
    assert ledger.balance(alice).totals.debits_pending == 0


def test_a_hold_placed_and_posted_in_one_batch_settles(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    bob = open_account(ledger)
    hold = transfer(cash, bob, 70, pending=True)
    results = ledger.post_bulk([hold, PostPendingTransfer(hold.id)])
    assert [r.error for r in results] == [None, None]
    assert ledger.balance(bob).posted == 70


def test_concurrent_callers_hold_then_post_through_shared_commits(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    payer = open_account(ledger, no_overdraft=True)
    payee = open_account(ledger)
    ledger.post_transfer(transfer(cash, payer, 50 * 7))
    holds = [transfer(payer, payee, 7, pending=True) for _ in range(60)]  # 10 too many

    with GroupCommitter(ledger, committers=2, max_batch=16) as committer:

        def pay(cmd):  # type: ignore[no-untyped-def]
            origin = Origin("client:test", cmd.id)
            try:
                committer.post_transfer(cmd, origin=origin)
            except Exception as exc:  # noqa: BLE001 - the refusal is the outcome here
                return type(exc).__name__
            committer.post_pending(PostPendingTransfer(cmd.id), origin=origin)
            return "posted"

        with ThreadPoolExecutor(12) as pool:
            outcomes = list(pool.map(pay, holds))

    assert outcomes.count("posted") == 50
    assert set(outcomes) == {"posted", "LimitExceeded"}
    assert ledger.balance(payee).posted == 350
    assert ledger.balance(payer).posted == 0
    assert ledger.balance(payer).totals.debits_pending == 0


def test_a_committer_voids_holds_and_reports_a_second_void(ledger: LedgerService):
    cash = open_account(ledger, side=Side.DEBIT)
    payee = open_account(ledger)
    hold = transfer(cash, payee, 5, pending=True, transfer_id=random_id("hold-"))
    ledger.post_transfer(hold)
    with GroupCommitter(ledger) as committer:
        voided = committer.void_pending(VoidPendingTransfer(hold.id))
        assert voided.transfer.status is TransferStatus.VOIDED
        with pytest.raises(HoldNotPending):
            committer.void_pending(VoidPendingTransfer(hold.id))
    assert ledger.balance(payee).totals.credits_pending == 0
