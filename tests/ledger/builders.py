"""Builders for ledger tests: random ids, accounts and two-posting transfers."""

from __future__ import annotations

import uuid

from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer
from twinrail.ledger.domain.model import Limits, Posting, Side
from twinrail.ledger.service.ledger_service import LedgerService


def random_id(prefix: str = "") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def open_account(
    ledger: LedgerService,
    asset: str = "EUR",
    *,
    side: Side = Side.CREDIT,
    no_overdraft: bool = False,
    name: str | None = None,
    account_id: str | None = None,
) -> str:
    """Open an account (credit-normal by default) and return its id."""
    ledger.define_asset(DefineAsset(asset, {"EUR": 2, "USDC": 6, "ETH": 18}.get(asset, 2)))
    account_id = account_id or random_id(f"{asset.lower()}-")
    ledger.open_account(
        OpenAccount(
            id=account_id,
            asset=asset,
            code=name or account_id,
            name=name or account_id,
            normal_side=side,
            limits=Limits(debits_must_not_exceed_credits=no_overdraft),
        )
    )
    return account_id


def transfer(
    debit: str,
    credit: str,
    amount: int,
    asset: str = "EUR",
    *,
    transfer_id: str | None = None,
    pending: bool = False,
    timeout_seconds: int | None = None,
) -> PostTransfer:
    return PostTransfer(
        id=transfer_id or random_id("t-"),
        postings=(
            Posting(debit, Side.DEBIT, amount, asset),
            Posting(credit, Side.CREDIT, amount, asset),
        ),
        pending=pending,
        timeout_seconds=timeout_seconds,
    )
