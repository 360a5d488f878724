"""Worked examples: accounting stories told step by step, with every balance checked at each step.

The chart of accounts is that of a small e-money institution holding customers' euros in a
safeguarding account and their USDC in a custody wallet. Balances are shown in each account's
normal side (assets and expenses as debits, liabilities, equity and income as credits); an
account missing from an expected table has a balance of zero.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from twinrail.ledger.domain.commands import (
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    ReverseTransfer,
)
from twinrail.ledger.domain.errors import LimitExceeded
from twinrail.ledger.domain.model import Limits, Posting, Side
from twinrail.ledger.domain.money import Asset, format_amount, to_minor_units
from twinrail.ledger.service.ledger_service import LedgerService

ASSETS = {"EUR": Asset("EUR", 2), "USDC": Asset("USDC", 6)}

# code: (name, asset, normal side, may it go below zero?)
CHART = {
    "1000": ("Safeguarding bank account", "EUR", Side.DEBIT, True),
    "1010": ("Operating bank account", "EUR", Side.DEBIT, True),
    "1200": ("USDC custody wallet", "USDC", Side.DEBIT, True),
    "2000": ("Alice - EUR wallet", "EUR", Side.CREDIT, False),
    "2001": ("Bob - EUR wallet", "EUR", Side.CREDIT, False),
    "2100": ("Alice - USDC wallet", "USDC", Side.CREDIT, False),
    "2300": ("Card scheme settlement due", "EUR", Side.CREDIT, True),
    "3000": ("Share capital", "EUR", Side.CREDIT, True),
    "3100": ("FX position - EUR", "EUR", Side.CREDIT, True),
    "3101": ("FX position - USDC", "USDC", Side.CREDIT, True),
    "4000": ("Fee income", "EUR", Side.CREDIT, True),
}


class Books:
    """The ledger seen through the chart of accounts: accounts by code, amounts as decimals."""

    def __init__(self, ledger: LedgerService) -> None:
        self.ledger = ledger
        self.count = 0
        for code, scale in (("EUR", 2), ("USDC", 6)):
            ledger.define_asset(DefineAsset(code, scale))
        for code, (name, asset, side, may_go_negative) in CHART.items():
            limits = Limits(debits_must_not_exceed_credits=not may_go_negative)
            ledger.open_account(OpenAccount(code, asset, code, name, side, limits))

    def post(self, reference: str, *postings: Posting, hold: bool = False) -> str:
        self.count += 1
        cmd = PostTransfer(f"tx-{self.count}", postings, reference=reference, pending=hold)
        return self.ledger.post_transfer(cmd).transfer.id

    def balances(self) -> dict[str, str]:
        """Every non-zero posted balance, by "code name"."""
        shown = {}
        for code, (name, asset, _, _) in CHART.items():
            posted = self.ledger.balance(code).posted
            if posted:
                shown[f"{code} {name}"] = format_amount(posted, ASSETS[asset])
        return shown

    def available(self, code: str) -> str:
        return format_amount(self.ledger.balance(code).available, ASSETS[CHART[code][1]])

    def pending(self, code: str) -> str:
        return format_amount(self.ledger.balance(code).pending, ASSETS[CHART[code][1]])

    def assert_trial_balance(self) -> None:
        """Debit balances equal credit balances, asset by asset."""
        net: dict[str, int] = defaultdict(int)
        for code, (_, asset, side, _) in CHART.items():
            posted = self.ledger.balance(code).posted
            net[asset] += posted if side is Side.DEBIT else -posted
        assert net == {"EUR": 0, "USDC": 0}


def dr(code: str, amount: str) -> Posting:
    asset = CHART[code][1]
    return Posting(code, Side.DEBIT, to_minor_units(amount, ASSETS[asset]), asset)


def cr(code: str, amount: str) -> Posting:
    asset = CHART[code][1]
    return Posting(code, Side.CREDIT, to_minor_units(amount, ASSETS[asset]), asset)


@pytest.fixture
def books(ledger: LedgerService) -> Books:
    return Books(ledger)


def test_initial_equity_is_paid_into_the_operating_account(books: Books):
    books.post("founders subscribe share capital", dr("1010", "50000.00"), cr("3000", "50000.00"))
    assert books.balances() == {
        "1010 Operating bank account": "50000.00",
        "3000 Share capital": "50000.00",
    }
    books.assert_trial_balance()


def test_a_customer_deposits_then_withdraws_and_cannot_overdraw(books: Books):
    books.post("SEPA credit from Alice", dr("1000", "1000.00"), cr("2000", "1000.00"))
    assert books.balances() == {
        "1000 Safeguarding bank account": "1000.00",
        "2000 Alice - EUR wallet": "1000.00",
    }

    books.post("SEPA payout to Alice's bank", dr("2000", "250.00"), cr("1000", "250.00"))
    assert books.balances() == {
        "1000 Safeguarding bank account": "750.00",
        "2000 Alice - EUR wallet": "750.00",
    }

    with pytest.raises(LimitExceeded):
        books.post("payout larger than the wallet", dr("2000", "750.01"), cr("1000", "750.01"))
    assert books.balances() == {
        "1000 Safeguarding bank account": "750.00",
        "2000 Alice - EUR wallet": "750.00",
    }
    books.assert_trial_balance()


def test_an_fx_trade_turns_alices_euros_into_usdc_at_the_quoted_rate(books: Books):
    books.post("SEPA credit from Alice", dr("1000", "500.00"), cr("2000", "500.00"))
    # Alice sells 100.00 EUR at 1.0850 USDC per EUR: one transfer, each asset balanced on its own
    books.post(
        "FX EUR/USDC 1.0850",
        dr("2000", "100.00"),
        cr("3100", "100.00"),
        dr("3101", "108.500000"),
        cr("2100", "108.500000"),
    )
    assert books.balances() == {
        "1000 Safeguarding bank account": "500.00",
        "2000 Alice - EUR wallet": "400.00",
        "2100 Alice - USDC wallet": "108.500000",
        "3100 FX position - EUR": "100.00",  # the platform is long 100 EUR ...
        "3101 FX position - USDC": "-108.500000",  # ... and short 108.5 USDC
    }

    # treasury covers the short position by moving USDC it holds into custody
    books.post("treasury funds custody", dr("1200", "108.500000"), cr("3101", "108.500000"))
    assert books.balances() == {
        "1000 Safeguarding bank account": "500.00",
        "1200 USDC custody wallet": "108.500000",
        "2000 Alice - EUR wallet": "400.00",
        "2100 Alice - USDC wallet": "108.500000",
        "3100 FX position - EUR": "100.00",
    }
    books.assert_trial_balance()


def test_a_card_authorisation_is_held_then_captured_for_less(books: Books):
    books.post("SEPA credit from Alice", dr("1000", "200.00"), cr("2000", "200.00"))

    hold = books.post(
        "card auth: Hotel Adlon", dr("2000", "150.00"), cr("2300", "150.00"), hold=True
    )
    assert books.balances() == {
        "1000 Safeguarding bank account": "200.00",
        "2000 Alice - EUR wallet": "200.00",  # nothing is posted yet ...
    }
    assert books.available("2000") == "50.00"  # ... but 150.00 is reserved
    assert (books.pending("2000"), books.pending("2300")) == ("-150.00", "150.00")

    with pytest.raises(LimitExceeded):
        books.post("second card auth", dr("2000", "60.00"), cr("2300", "60.00"), hold=True)
    assert books.available("2000") == "50.00"

    # the hotel captures 123.45; the remaining 26.55 of the hold is released
    books.ledger.post_pending(
        PostPendingTransfer(hold, amount=to_minor_units("123.45", ASSETS["EUR"]))
    )
    assert books.balances() == {
        "1000 Safeguarding bank account": "200.00",
        "2000 Alice - EUR wallet": "76.55",
        "2300 Card scheme settlement due": "123.45",
    }
    assert books.available("2000") == "76.55"
    assert (books.pending("2000"), books.pending("2300")) == ("0.00", "0.00")

    # the scheme settles: the money leaves the safeguarding account
    books.post("card scheme settlement", dr("2300", "123.45"), cr("1000", "123.45"))
    assert books.balances() == {
        "1000 Safeguarding bank account": "76.55",
        "2000 Alice - EUR wallet": "76.55",
    }
    books.assert_trial_balance()


def test_a_chargeback_reverses_the_captured_payment(books: Books):
    books.post("SEPA credit from Alice", dr("1000", "200.00"), cr("2000", "200.00"))
    hold = books.post("card auth: Gadget shop", dr("2000", "80.00"), cr("2300", "80.00"), hold=True)
    books.ledger.post_pending(PostPendingTransfer(hold))
    assert books.balances() == {
        "1000 Safeguarding bank account": "200.00",
        "2000 Alice - EUR wallet": "120.00",
        "2300 Card scheme settlement due": "80.00",
    }

    # the goods never arrived: the dispute is won before settlement, the capture is reversed
    chargeback = books.ledger.reverse_transfer(
        ReverseTransfer("chargeback-1", hold, reference="chargeback: goods not received")
    )
    assert chargeback.transfer.reverses == hold
    assert books.balances() == {
        "1000 Safeguarding bank account": "200.00",
        "2000 Alice - EUR wallet": "200.00",
    }
    # nothing is deleted: the statement shows the capture and its reversal
    lines = books.ledger.statement("2000").lines
    assert [(line.entry.reference, line.balance_after) for line in lines] == [
        ("SEPA credit from Alice", 200_00),
        ("card auth: Gadget shop", 120_00),
        ("chargeback: goods not received", 200_00),
    ]
    books.assert_trial_balance()


def test_monthly_fees_are_charged_then_swept_out_of_safeguarding(books: Books):
    books.post("SEPA credit from Alice", dr("1000", "100.00"), cr("2000", "100.00"))
    books.post("SEPA credit from Bob", dr("1000", "40.00"), cr("2001", "40.00"))

    fees = [
        PostTransfer(
            "fee-alice-2026-01", (dr("2000", "2.50"), cr("4000", "2.50")), reference="January fee"
        ),
        PostTransfer(
            "fee-bob-2026-01", (dr("2001", "2.50"), cr("4000", "2.50")), reference="January fee"
        ),
    ]
    books.ledger.post_linked_batch(fees)
    assert books.balances() == {
        "1000 Safeguarding bank account": "140.00",
        "2000 Alice - EUR wallet": "97.50",
        "2001 Bob - EUR wallet": "37.50",
        "4000 Fee income": "5.00",
    }
    # safeguarding now holds 5.00 more than customers are owed: the fees are the firm's money
    books.post("fee sweep January", dr("1010", "5.00"), cr("1000", "5.00"))
    assert books.balances() == {
        "1000 Safeguarding bank account": "135.00",
        "1010 Operating bank account": "5.00",
        "2000 Alice - EUR wallet": "97.50",
        "2001 Bob - EUR wallet": "37.50",
        "4000 Fee income": "5.00",
    }
    owed_to_customers = sum(books.ledger.balance(code).posted for code in ("2000", "2001"))
    assert books.ledger.balance("1000").posted == owed_to_customers

    # running the fee batch again (a retried job) charges nobody twice
    assert all(outcome.replayed for outcome in books.ledger.post_linked_batch(fees))
    assert books.balances()["4000 Fee income"] == "5.00"
    books.assert_trial_balance()
