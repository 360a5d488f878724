"""The sandbox bank's seeded customers: PSUs with accounts (checksum-valid IBANs from schwifty),
opening balances and a deterministic transaction history ending on the seed day."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from schwifty import IBAN

from twinrail.sandbox.bank.domain.accounts import Account, BookingStatus, Psu, Transaction

__all__ = [
    "SANDBOX_BIC",
    "SANDBOX_BANK_CODE",
    "SeedPsu",
    "SEED_PSUS",
    "TRUSTED_BENEFICIARIES",
    "seed_data",
]

SANDBOX_BIC = "TWRLDEB1XXX"
SANDBOX_BANK_CODE = "10020030"  # a German bank code reserved for this sandbox
HISTORY_DAYS = 120
COUNTERPARTIES = [
    ("Stadtwerke Musterstadt", "DE89370400440532013000", "Abschlag Strom"),
    ("Boulangerie Dupont", "FR1420041010050500013M02606", "Bread and pastries"),
    ("Acme Employer BV", "NL91ABNA0417164300", "Salary"),
    ("Online Books Ltd", "GB29NWBK60161331926819", "Order 4711"),
    ("Gimnasio Central", "ES9121000418450200051332", "Cuota mensual"),
]


@dataclass(frozen=True)
class SeedPsu:
    """A seeded PSU: credentials and the accounts (name, product, type, opening cents, txns)."""

    psu: Psu
    accounts: tuple[tuple[str, str, str, int, int], ...]


SEED_PSUS = (
    SeedPsu(
        Psu("alice", "Alice Example", password="alice-sandbox", otp="123456"),
        (
            ("Alice's current account", "Girokonto", "CACC", 250_000, 130),
            ("Alice's savings", "Tagesgeld", "SVGS", 1_000_000, 8),
        ),
    ),
    SeedPsu(
        Psu("bob", "Bob Example", password="bob-sandbox", otp="654321"),
        (("Bob's current account", "Girokonto", "CACC", 50_000, 40),),
    ),
    SeedPsu(
        Psu("carol", "Carol Example GmbH", password="carol-sandbox", otp="111111"),
        (("Carol GmbH operating", "Business", "CACC", 5_000_000, 60),),
    ),
)

# Beneficiaries each PSU listed as trusted at the bank: payments to them need no SCA when the
# bank applies exemptions (RTS art. 13).
TRUSTED_BENEFICIARIES: dict[str, tuple[str, ...]] = {
    "alice": ("FR1420041010050500013M02606",),  # Boulangerie Dupont
    "bob": ("GB29NWBK60161331926819",),  # Online Books Ltd
}


def seed_data(today: dt.date) -> tuple[list[Psu], list[Account], list[Transaction]]:
    """The seeded PSUs, accounts and transactions; the same `today` gives the same data."""
    rng = random.Random(20210924)  # the spec's release date: any fixed seed would do
    psus, accounts, transactions = [], [], []
    account_number = 1000000001
    for seeded in SEED_PSUS:
        psus.append(seeded.psu)
        for name, product, cash_type, opening, count in seeded.accounts:
            iban = str(IBAN.generate("DE", SANDBOX_BANK_CODE, str(account_number)))
            resource_id = f"acc-{iban[-10:]}"
            account_number += 1
            accounts.append(
                Account(
                    resource_id=resource_id, psu_id=seeded.psu.psu_id, iban=iban,
                    currency="EUR", name=name, product=product, cash_account_type=cash_type,
                    bic=SANDBOX_BIC, owner_name=seeded.psu.name, opening_booked=opening,
                    opening_date=today - dt.timedelta(days=HISTORY_DAYS),
                )
            )  # fmt: skip
            transactions += _history(rng, resource_id, count, today)
    return psus, accounts, transactions


def _history(rng: random.Random, account_id: str, count: int, today: dt.date) -> list[Transaction]:
    items = []
    for n in range(count):
        cp_name, cp_iban, remittance = rng.choice(COUNTERPARTIES)
        credit = remittance == "Salary"
        amount = rng.randint(150_000, 350_000) if credit else -rng.randint(150, 25_000)
        pending = n >= count - max(1, count // 20)  # the newest few are still pending
        value_date = today - dt.timedelta(days=0 if pending else rng.randint(1, HISTORY_DAYS - 1))
        items.append(
            Transaction(
                transaction_id=f"{account_id}-{n:05d}",
                account_id=account_id,
                status=BookingStatus.PENDING if pending else BookingStatus.BOOKED,
                booking_date=None if pending else value_date,
                value_date=value_date,
                amount=amount,
                counterparty_name=cp_name,
                counterparty_iban=cp_iban,
                remittance=remittance,
                entry_reference=f"E{rng.randrange(10**12):012d}",
            )
        )
    return items
