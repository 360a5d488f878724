"""Export round trip: the journal's balances, read back by our own parser and by hledger, equal the
ledger's, for a random history with wei amounts beyond 64 bits, holds in every state, reversals
and multi-asset trades."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import shutil
import subprocess
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ManualClock
from twinrail.ledger.adapters.journal_export import (
    JournalTransaction,
    export_journal,
    journal_account_names,
    write_journal,
)
from twinrail.ledger.domain.commands import (
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    ReverseTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import LedgerRejection
from twinrail.ledger.domain.model import Account, Limits, Posting, Side, TransferStatus
from twinrail.ledger.domain.money import Asset
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.ledger.store.ledger_store import LedgerStore

SCALES = {"EUR": 2, "USDC": 6, "ETH": 18, "PT5": 0}  # PT5: loyalty points, a code with a digit
AMOUNTS = {
    "EUR": lambda r: r.randint(1, 10**7),
    "USDC": lambda r: r.randint(1, 10**12),
    "ETH": lambda r: r.choice(
        [r.randint(1, 10**18), r.randint(2**63, 2**70), r.randint(10**30, 10**40)]
    ),
    "PT5": lambda r: r.randint(1, 500),
}
TRICKY_NAMES = ["Customer: Alice;  Smith", "(Reserve)", "* Suspense", "Fees\tand charges", "Wallet"]


@dataclass
class History:
    accounts: list[str]
    days: list[dt.datetime]  # a moment at the end of each day that saw activity


def build_history(
    ledger: LedgerService, clock: ManualClock, seed: int, steps: int = 160
) -> History:
    """A random but reproducible history: every kind of write, across several days."""
    r = random.Random(seed)
    for code, scale in SCALES.items():
        ledger.define_asset(DefineAsset(code, scale))
    by_asset: dict[str, list[str]] = defaultdict(list)
    chart = [(a, "Bank") for a in SCALES] + [(r.choice(list(SCALES)), t) for t in TRICKY_NAMES * 2]
    for n, (asset, name) in enumerate(chart):
        account_id = f"acct-{n}"
        side = Side.DEBIT if name == "Bank" else Side.CREDIT
        limits = Limits(debits_must_not_exceed_credits=name != "Bank" and r.random() < 0.5)
        # the same code and name twice (TRICKY_NAMES * 2) must still give two journal accounts
        code = "1000" if name == "Bank" else "2000"
        ledger.open_account(OpenAccount(account_id, asset, code, f"{name} {asset}", side, limits))
        by_asset[asset].append(account_id)
    holds: list[str] = []
    posted: list[str] = []
    days = []
    for step in range(steps):
        try:
            _random_write(ledger, r, by_asset, holds, posted, f"s{seed}-{step}")
        except LedgerRejection:
            pass  # over a limit, reversed twice ...: the history simply goes on
        if r.random() < 0.1:
            days.append(clock.now.replace(hour=23, minute=59, second=59, microsecond=999999))
            clock.advance(hours=r.choice([1, 5, 24, 30]))
            ledger.expire_holds()
    days.append(clock.now)
    return History([a for ids in by_asset.values() for a in ids], days)


def _random_write(ledger, r, by_asset, holds, posted, tid) -> None:
    asset = r.choice([a for a in by_asset if len(by_asset[a]) >= 2])
    debit, credit = r.sample(by_asset[asset], 2)
    amount = AMOUNTS[asset](r)
    legs = (Posting(debit, Side.DEBIT, amount, asset), Posting(credit, Side.CREDIT, amount, asset))
    roll = r.random()
    if roll < 0.4:
        backdated = ledger.clock() - dt.timedelta(days=2) if r.random() < 0.1 else None
        ledger.post_transfer(
            PostTransfer(tid, legs, effective_at=backdated, reference=f"pay {tid}")
        )
        posted.append(tid)
    elif roll < 0.55:
        timeout = r.choice([None, 3600, 7200])
        ledger.post_transfer(PostTransfer(tid, legs, pending=True, timeout_seconds=timeout))
        holds.append(tid)
    elif roll < 0.7 and holds:
        hold = ledger.transfer(r.choice(holds))
        if r.random() < 0.3:
            ledger.void_pending(VoidPendingTransfer(hold.id))
        else:
            partial = r.choice([None, max(1, hold.postings[0].amount // 3)])
            ledger.post_pending(PostPendingTransfer(hold.id, partial))
            posted.append(hold.id)
    elif roll < 0.8 and posted:
        ledger.reverse_transfer(ReverseTransfer(tid, r.choice(posted), reference="reversal"))
    elif roll < 0.9 and asset != "ETH" and len(by_asset["ETH"]) >= 2:
        pool, wallet = r.sample(by_asset["ETH"], 2)
        wei = AMOUNTS["ETH"](r)
        eth_legs = (Posting(pool, Side.DEBIT, wei, "ETH"), Posting(wallet, Side.CREDIT, wei, "ETH"))
        ledger.post_transfer(PostTransfer(tid, legs + eth_legs, reference="trade; two assets"))
        posted.append(tid)
    else:
        bank, customer = by_asset[asset][0], r.choice(by_asset[asset][1:])
        deposit = (
            Posting(bank, Side.DEBIT, amount, asset),
            Posting(customer, Side.CREDIT, amount, asset),
        )
        ledger.post_transfer(PostTransfer(tid, deposit, reference="deposit"))
        posted.append(tid)


# A small journal reader, enough for what the exporter writes


_POSTING = re.compile(
    r"^    (?P<account>\S(?:\S| (?! ))*)"  # single spaces only: two end the name
    r"  (?P<amount>-?\d+(?:\.\d+)?) (?P<symbol>\"[^\"]+\"|[A-Za-z]+)$"
)
_HEADER = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2}) (?P<status>[*!]) \((?P<code>[^)]*)\)"
    r" (?P<description>.*?)  ; (?P<tags>.*)$"
)


@dataclass
class ParsedJournal:
    scales: dict[str, int]
    accounts: dict[str, str]  # journal name -> ledger id
    transactions: list[tuple[str, str, dict[str, str], list[tuple[str, str, int]]]]

    def balances(self, *, cleared_only: bool = False) -> dict[str, int]:
        """Net debit minus credit in minor units, per ledger account id."""
        totals: dict[str, int] = defaultdict(int)
        for _, status, _, postings in self.transactions:
            if cleared_only and status != "*":
                continue
            for name, _, minor in postings:
                totals[self.accounts[name]] += minor
        return dict(totals)


def parse_journal(text: str) -> ParsedJournal:
    scales: dict[str, int] = {}
    accounts: dict[str, str] = {}
    transactions: list = []
    lines = iter(text.splitlines())
    for line in lines:
        if line.startswith("commodity "):
            symbol = line.removeprefix("commodity ").strip('"')
            sample = next(lines).split()  # "format 1000.00 EUR", or "" for a scale of 0
            scales[symbol] = len(sample[1].partition(".")[2]) if sample else 0
        elif line.startswith("account "):
            ledger_id = re.search(r"ledger_id: ([^,]+)", next(lines))
            assert ledger_id is not None
            accounts[line.removeprefix("account ")] = ledger_id.group(1)
        elif header := _HEADER.match(line):
            tags = dict(tag.split(": ", 1) for tag in header["tags"].split(", "))
            assert header["code"] == tags["transfer_id"]
            transactions.append((header["date"], header["status"], tags, []))
        elif posting := _POSTING.match(line):
            symbol = posting["symbol"].strip('"')
            whole, _, fraction = posting["amount"].partition(".")
            assert len(fraction) == scales[symbol], line  # exactly the asset's decimals
            transactions[-1][3].append((posting["account"], symbol, int(whole + fraction)))
        else:
            assert line == "" or line.startswith(";"), f"unexpected line {line!r}"
    for _, _, tags, postings in transactions:
        net: Counter[str] = Counter()
        for _, symbol, minor in postings:
            net[symbol] += minor
        assert not any(net.values()), f"transaction {tags['transfer_id']} does not balance"
    return ParsedJournal(scales, accounts, transactions)


def debit_minus_credit(
    ledger: LedgerService, account_id: str, *, with_pending: bool = False
) -> int:
    t = ledger.balance(account_id).totals
    net = t.debits_posted - t.credits_posted
    return net + (t.debits_pending - t.credits_pending if with_pending else 0)


def hledger_balances(journal: Path, parsed: ParsedJournal, *args: str) -> dict[str, int]:
    """Per-account balances (debit minus credit, minor units) as hledger computes them."""
    command = ["hledger", "-f", str(journal), "balance", "--flat", "--no-total", "-E"]
    output = _run([*command, "-O", "csv", *args])
    rows = csv.DictReader(io.StringIO(output))
    return {parsed.accounts[row["account"]]: _minor(row["balance"], parsed) for row in rows}


def ledger_cli_balances(journal: Path, parsed: ParsedJournal, *args: str) -> dict[str, int]:
    """The same, as ledger-cli computes them."""
    layout = "%(account)\t%(display_total)\n"
    command = ["ledger", "-f", str(journal), "balance", "--flat", "--no-total", "--empty"]
    output = _run([*command, "--balance-format", layout, *args])
    rows = (line.split("\t") for line in output.splitlines() if line)
    return {parsed.accounts[name]: _minor(amount, parsed) for name, amount in rows}


def _run(command: list[str]) -> str:
    return subprocess.run(command, check=True, capture_output=True, text=True, timeout=60).stdout


def _minor(amount: str, parsed: ParsedJournal) -> int:
    """ "-12.34 EUR" as -1234, checking that the tool kept exactly the asset's decimals."""
    if amount.strip() == "0":
        return 0
    number, symbol = amount.strip().split(" ", 1)
    whole, _, fraction = number.partition(".")
    assert len(fraction) == parsed.scales[symbol.strip('"')], amount
    return int(whole + fraction)


@pytest.fixture
def hledger() -> str:
    path = shutil.which("hledger")
    if path is None:
        if IN_CI:
            pytest.fail("hledger is mandatory in CI (.ci/run installs it) but is not on PATH")
        pytest.skip("hledger not installed (apt-get install hledger)")
    return path


def export(ledger: LedgerService, path: Path, **options: bool) -> ParsedJournal:
    with path.open("w", encoding="utf-8") as out:
        export_journal(ledger.engine, out, **options)
    return parse_journal(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_journal_read_back_has_the_ledgers_balances(ledger, clock, tmp_path, seed):
    history = build_history(ledger, clock, seed)
    parsed = export(ledger, tmp_path / "ledger.journal")
    balances = parsed.balances()
    assert set(parsed.accounts.values()) == set(history.accounts)
    for account_id in history.accounts:
        assert balances.get(account_id, 0) == debit_minus_credit(ledger, account_id), account_id
    with ledger.engine.connect() as conn:
        transfers = list(LedgerStore(conn).all_transfers())
    exported = Counter(tags["transfer_id"] for _, _, tags, _ in parsed.transactions)
    assert exported == Counter(t.id for t in transfers if t.effective_postings())
    assert any(t.status is TransferStatus.PENDING for t in transfers)  # and none exported
    assert max(p[2] for tx in parsed.transactions for p in tx[3]) > 2**63  # wei beyond 64 bits


@pytest.mark.parametrize("seed", [1, 2])
def test_hledger_computes_the_same_balances_as_the_ledger(ledger, clock, tmp_path, seed, hledger):
    history = build_history(ledger, clock, seed)
    journal = tmp_path / "ledger.journal"
    parsed = export(ledger, journal)
    _run([hledger, "-f", str(journal), "--strict", "check", "ordereddates"])
    balances = hledger_balances(journal, parsed)
    for account_id in history.accounts:
        assert balances.get(account_id, 0) == debit_minus_credit(ledger, account_id), account_id

    # point in time: hledger's end date is exclusive, the ledger's as_of inclusive
    day = history.days[len(history.days) // 2]
    until = (day + dt.timedelta(days=1)).date().isoformat()
    earlier = hledger_balances(journal, parsed, "--end", until)
    for account_id in history.accounts:
        t = ledger.balance(account_id, as_of=day).totals
        assert earlier.get(account_id, 0) == t.debits_posted - t.credits_posted, account_id


def test_live_holds_can_be_exported_as_pending_transactions(ledger, clock, tmp_path, hledger):
    history = build_history(ledger, clock, 4)
    journal = tmp_path / "with-holds.journal"
    parsed = export(ledger, journal, include_holds=True)
    assert any(status == "!" for _, status, _, _ in parsed.transactions)
    _run([hledger, "-f", str(journal), "--strict", "check", "ordereddates"])
    cleared = hledger_balances(journal, parsed, "--cleared")
    everything = hledger_balances(journal, parsed)
    for account_id in history.accounts:
        assert cleared.get(account_id, 0) == debit_minus_credit(ledger, account_id)
        assert everything.get(account_id, 0) == debit_minus_credit(
            ledger, account_id, with_pending=True
        )
        assert parsed.balances(cleared_only=True).get(account_id, 0) == debit_minus_credit(
            ledger, account_id
        )


def _account(account_id: str, code: str, name: str, asset: str = "EUR") -> Account:
    return Account(account_id, asset, code, name, Side.CREDIT)


def test_account_names_are_made_safe_and_unique():
    names = journal_account_names(
        [
            _account("a", "2000", "Customer: Alice;  Smith"),
            _account("b", "2000", "Customer: Alice;  Smith"),
            _account("c", "(9", "Reserve)"),
            _account("d", "", "* Suspense"),
            _account("e", "3000", "3000"),
            _account("f", "", ""),
        ]
    )
    assert names == {
        "a": "2000 Customer- Alice, Smith",
        "b": "2000 Customer- Alice, Smith (b)",
        "c": "9 Reserve",
        "d": "Suspense",
        "e": "3000",
        "f": "f",
    }


def test_a_transfer_is_written_as_one_cleared_transaction_with_exact_amounts():
    eth, pts = Asset("ETH", 18), Asset("PT5", 0)
    out = io.StringIO()
    at = dt.datetime(2026, 3, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))
    summary = write_journal(
        out,
        [eth, pts],
        [_account("pool", "1200", "ETH pool", "ETH"), _account("w", "2100", "Alice wallet", "ETH")],
        [
            JournalTransaction(
                "t-1",
                at,
                "withdrawal; on chain",
                (
                    Posting("pool", Side.DEBIT, 10**40 + 1, "ETH"),
                    Posting("w", Side.CREDIT, 10**40 + 1, "ETH"),
                ),
                reverses="t-0",
            )
        ],
    )
    assert out.getvalue().split("\n", 3)[3] == (
        "\ncommodity ETH\n    format 1000.000000000000000000 ETH\n"
        '\ncommodity "PT5"\n'
        "\naccount 1200 ETH pool\n    ; ledger_id: pool, asset: ETH, normal_side: credit\n"
        "\naccount 2100 Alice wallet\n    ; ledger_id: w, asset: ETH, normal_side: credit\n"
        "\n2026-03-02 * (t-1) withdrawal, on chain  ; transfer_id: t-1, "
        "effective_at: 2026-03-01T23:30:00-02:00, reverses: t-0\n"
        "    1200 ETH pool  10000000000000000000000.000000000000000001 ETH\n"
        "    2100 Alice wallet  -10000000000000000000000.000000000000000001 ETH\n"
    )
    assert (summary.accounts, summary.transactions, summary.holds, summary.postings) == (2, 1, 0, 2)


def test_ledger_cli_reads_the_same_journal_when_installed(ledger, clock, tmp_path):
    if shutil.which("ledger") is None:
        pytest.skip("ledger-cli not installed (optional: apt-get install ledger)")
    history = build_history(ledger, clock, 5)
    journal = tmp_path / "ledger.journal"
    parsed = export(ledger, journal, include_holds=True)
    cleared = ledger_cli_balances(journal, parsed, "--cleared")
    for account_id in history.accounts:
        assert cleared.get(account_id, 0) == debit_minus_credit(ledger, account_id), account_id
