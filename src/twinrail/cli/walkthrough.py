"""`make run`: a readable tour of the ledger on the embedded database.

Every run tags its customer accounts and transfers with a fresh run id, so it can be run again
and again on the same SQLite file; the shared accounts (bank, equity, fees) accumulate.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from rich.panel import Panel
from sqlalchemy import Engine

from twinrail.audit.service.sealing import seal_all
from twinrail.audit.service.verification import verify
from twinrail.bootstrap import bootstrap
from twinrail.cli.ledger_views import accounts_table, statement_table
from twinrail.cli.output import console
from twinrail.ledger.domain.commands import (
    DefineAsset,
    OpenAccount,
    PostPendingTransfer,
    PostTransfer,
    ReverseTransfer,
    VoidPendingTransfer,
)
from twinrail.ledger.domain.errors import LedgerRejection
from twinrail.ledger.domain.model import Limits, Posting, Side
from twinrail.ledger.domain.money import format_amount, to_minor_units
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.ledger.service.rebuild import check_projections

__all__ = ["run"]


def _step(title: str) -> None:
    console.rule(f"[bold cyan]{title}")


def run() -> None:
    platform = bootstrap()
    ledger = platform.ledger.acting_as("walkthrough", correlation_id=f"walkthrough-{uuid.uuid4()}")
    tag = uuid.uuid4().hex[:6]
    ids = _open_chart(ledger, tag)
    eur = {a.code: a for a in ledger.assets()}

    def money(text: str, asset: str = "EUR") -> int:
        return to_minor_units(text, eur[asset])

    def pay(name: str, *postings: tuple[str, Side, str, str]) -> PostTransfer:
        return PostTransfer(
            id=f"{name}-{tag}",
            postings=tuple(
                Posting(ids[a], side, money(x, asset), asset) for a, side, x, asset in postings
            ),
            reference=name.replace("-", " "),
        )

    D, C = Side.DEBIT, Side.CREDIT
    _step("1. Money in: the owner funds the company, Alice deposits")
    _say(
        ledger.post_transfer,
        pay("owner-capital", ("bank", D, "10000.00", "EUR"), ("equity", C, "10000.00", "EUR")),
    )
    _say(
        ledger.post_transfer,
        pay("alice-deposit", ("bank", D, "250.00", "EUR"), ("alice", C, "250.00", "EUR")),
    )

    _step("2. One transfer, three postings: Alice pays Bob 40.00 and a 0.50 fee")
    _say(
        ledger.post_transfer,
        pay(
            "alice-pays-bob",
            ("alice", D, "40.50", "EUR"),
            ("bob", C, "40.00", "EUR"),
            ("fees", C, "0.50", "EUR"),
        ),
    )

    _step("3. Holds: a card authorisation of 100.00 is captured for 80.00; another is voided")
    auth = replace(
        pay("card-auth", ("alice", D, "100.00", "EUR"), ("bob", C, "100.00", "EUR")),
        pending=True,
        timeout_seconds=7 * 86400,
    )
    _say(ledger.post_transfer, auth)
    b = ledger.balance(ids["alice"])
    console.print(
        f"  Alice while the hold is open: posted {format_amount(b.posted, eur['EUR'])}, "
        f"available {format_amount(b.available, eur['EUR'])}"
    )
    ledger.post_pending(PostPendingTransfer(auth.id, money("80.00")))
    console.print(f"  captured [bold]80.00[/] of {auth.id}; the other 20.00 is released")
    second = replace(
        pay("hotel-auth", ("alice", D, "30.00", "EUR"), ("bob", C, "30.00", "EUR")), pending=True
    )
    _say(ledger.post_transfer, second)
    ledger.void_pending(VoidPendingTransfer(second.id))
    console.print(f"  voided {second.id}")

    _step(
        "4. Rules hold: an overdraft is refused, a replay changes nothing, a refund is a reversal"
    )
    _say(
        ledger.post_transfer,
        pay("too-much", ("alice", D, "1000000.00", "EUR"), ("bob", C, "1000000.00", "EUR")),
    )
    _say(
        ledger.post_transfer,
        pay("alice-deposit", ("bank", D, "250.00", "EUR"), ("alice", C, "250.00", "EUR")),
    )
    _say(
        ledger.reverse_transfer, ReverseTransfer(f"refund-{tag}", f"alice-pays-bob-{tag}", "refund")
    )

    _step("5. Wei-sized amounts stay exact: 12.345678901234567891 ETH (> 2^63 wei)")
    _say(
        ledger.post_transfer,
        pay(
            "eth-deposit",
            ("hot_wallet", D, "12.345678901234567891", "ETH"),
            ("alice_eth", C, "12.345678901234567891", "ETH"),
        ),
    )

    _step("Balances")
    mine = [(a, t) for a, t in ledger.accounts() if a.id in ids.values()]
    console.print(accounts_table(mine, eur, title=f"Accounts of run {tag}"))
    console.print(statement_table(ledger.statement(ids["alice"]), eur["EUR"]))

    _step("Checks")
    report = check_projections(platform.engine)
    verdict = "[green]match[/]" if report.ok else "[red]DIFFER[/]"
    console.print(f"  replaying {report.events} events into fresh projections: {verdict}")
    _audit_summary(platform.engine)
    console.print(
        Panel.fit(
            f"SQLite database: [bold]{platform.engine.url.database}[/]\n"
            f"Try: [bold].venv/bin/twinrail ledger statement {ids['alice']}[/]\n"
            f"     [bold].venv/bin/twinrail ledger accounts --json[/]",
            title="where things are",
        )
    )


def _say(action: Callable[..., object], cmd: PostTransfer | ReverseTransfer) -> None:
    try:
        outcome = action(cmd)
    except LedgerRejection as exc:
        console.print(f"  [yellow]refused[/] {cmd.id}: {exc.message} [dim]({exc.code})[/]")
        return
    replayed = getattr(outcome, "replayed", False)
    status = "replayed, nothing changed" if replayed else "ok"
    console.print(f"  [green]{status}[/] {cmd.id}")


def _open_chart(ledger: LedgerService, tag: str) -> dict[str, str]:
    for code, scale in (("EUR", 2), ("USDC", 6), ("ETH", 18)):
        ledger.define_asset(DefineAsset(code, scale))
    no_overdraft = Limits(debits_must_not_exceed_credits=True)
    chart = {
        "bank": ("bank-eur", "EUR", "1000", "Bank (EUR settlement)", Side.DEBIT, Limits()),
        "hot_wallet": ("hot-wallet-eth", "ETH", "1100", "Hot wallet (ETH)", Side.DEBIT, Limits()),
        "equity": ("equity-eur", "EUR", "3000", "Owner's equity", Side.CREDIT, Limits()),
        "fees": ("fees-eur", "EUR", "4000", "Fee revenue", Side.CREDIT, Limits()),
        "alice": (f"alice-eur-{tag}", "EUR", f"2100-{tag}", "Alice", Side.CREDIT, no_overdraft),
        "bob": (f"bob-eur-{tag}", "EUR", f"2101-{tag}", "Bob", Side.CREDIT, no_overdraft),
        "alice_eth": (
            f"alice-eth-{tag}",
            "ETH",
            f"2200-{tag}",
            "Alice (ETH)",
            Side.CREDIT,
            no_overdraft,
        ),
    }
    for account_id, asset, code, name, side, limits in chart.values():
        ledger.open_account(OpenAccount(account_id, asset, code, name, side, limits))
    return {key: value[0] for key, value in chart.items()}


def _audit_summary(engine: Engine) -> None:
    """Seal what this run audited and verify the whole chain."""
    sealed = seal_all(engine)
    report = verify(engine)
    if report.ok:
        console.print(
            f"  audit trail: sealed {sealed} new entries; chain of {report.sealed} verified "
            f"[green]intact[/] (tail {report.tail_seal_seq}: {(report.tail_hash or '')[:16]}...)"
        )
    else:
        console.print(f"  audit trail: [red]broken[/] at position {report.first_broken_seal_seq}")
