"""Two-phase transfers: holds reserve funds, then are posted, voided or expire."""

from __future__ import annotations

import pytest

from tests.conftest import ManualClock
from tests.ledger.builders import open_account, transfer
from twinrail.ledger.domain.commands import PostPendingTransfer, VoidPendingTransfer
from twinrail.ledger.domain.errors import HoldAmountExceeded, HoldNotPending, LimitExceeded
from twinrail.ledger.domain.model import Side, TransferStatus
from twinrail.ledger.service.ledger_service import LedgerService


@pytest.fixture
def funded(ledger: LedgerService) -> tuple[str, str]:
    """A customer with 5,000 and no overdraft, and a merchant."""
    bank = open_account(ledger, side=Side.DEBIT)
    customer = open_account(ledger, no_overdraft=True)
    merchant = open_account(ledger)
    ledger.post_transfer(transfer(bank, customer, 5_000))
    return customer, merchant


def test_six_holds_of_1000_on_5000_do_not_all_succeed(ledger, funded):
    customer, merchant = funded
    for _ in range(5):
        ledger.post_transfer(transfer(customer, merchant, 1_000, pending=True))
    with pytest.raises(LimitExceeded):
        ledger.post_transfer(transfer(customer, merchant, 1_000, pending=True))
    balance = ledger.balance(customer)
    assert (balance.posted, balance.available) == (5_000, 0)


def test_posting_a_hold_for_less_releases_the_rest(ledger, funded):
    customer, merchant = funded
    hold = ledger.post_transfer(transfer(customer, merchant, 1_000, pending=True)).transfer
    assert ledger.balance(customer).available == 4_000
    posted = ledger.post_pending(PostPendingTransfer(hold.id, amount=600))
    assert posted.status is TransferStatus.POSTED
    customer_balance = ledger.balance(customer)
    assert (customer_balance.posted, customer_balance.available) == (4_400, 4_400)
    assert ledger.balance(merchant).posted == 600
    assert ledger.balance(merchant).pending == 0


def test_voiding_a_hold_restores_available_and_cannot_be_repeated(ledger, funded):
    customer, merchant = funded
    hold = ledger.post_transfer(transfer(customer, merchant, 1_000, pending=True)).transfer
    ledger.void_pending(VoidPendingTransfer(hold.id))
    assert ledger.balance(customer).available == 5_000
    with pytest.raises(HoldNotPending):
        ledger.void_pending(VoidPendingTransfer(hold.id))
    with pytest.raises(HoldNotPending):
        ledger.post_pending(PostPendingTransfer(hold.id))


def test_a_hold_cannot_be_posted_twice_or_for_more(ledger, funded):
    customer, merchant = funded
    hold = ledger.post_transfer(transfer(customer, merchant, 1_000, pending=True)).transfer
    with pytest.raises(HoldAmountExceeded):
        ledger.post_pending(PostPendingTransfer(hold.id, amount=1_001))
    ledger.post_pending(PostPendingTransfer(hold.id))
    with pytest.raises(HoldNotPending):
        ledger.post_pending(PostPendingTransfer(hold.id))
    assert ledger.balance(merchant).posted == 1_000


def test_expired_holds_release_funds_and_refuse_posting(ledger, funded, clock: ManualClock):
    customer, merchant = funded
    hold = ledger.post_transfer(
        transfer(customer, merchant, 1_000, pending=True, timeout_seconds=60)
    ).transfer
    clock.advance(seconds=59)
    assert ledger.expire_holds() == []
    clock.advance(seconds=1)
    with pytest.raises(HoldNotPending):
        ledger.post_pending(PostPendingTransfer(hold.id))
    expired = ledger.expire_holds()
    assert [h.id for h in expired] == [hold.id]
    assert expired[0].status is TransferStatus.EXPIRED
    assert ledger.balance(customer).available == 5_000
    assert ledger.expire_holds() == []
