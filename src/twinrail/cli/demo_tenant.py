"""The demo tenant `twinrail up` creates once: a client with an API key, a customer, two EUR
accounts (one funded), so that the printed `curl` lines move real money from the first minute."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from twinrail.api.domain.model import CustomerKind, Principal
from twinrail.api.domain.roles import Role
from twinrail.api.service.customers import CreateCustomer, OpenCustomerAccount
from twinrail.ledger.domain.commands import DefineAsset, OpenAccount, PostTransfer
from twinrail.ledger.domain.model import Posting, Side

__all__ = ["ensure_demo_tenant", "DEMO_FUNDS"]

DEMO_FUNDS = 100_000  # 1,000.00 EUR in cents
_ASSETS = {"EUR": 2, "USDC": 6, "ETH": 18}
_FUNDING_ACCOUNT = "platform-funding-eur"
_ACTOR = "twinrail up"


def ensure_demo_tenant(services: Any, path: Path) -> dict[str, str]:
    """The demo tenant's ids and credentials, created on the first call and kept (mode 600)."""
    if path.exists():
        found: dict[str, str] = json.loads(path.read_text())
        return found
    ledger = services.platform.ledger
    known = {asset.code for asset in ledger.assets()}
    for code, scale in _ASSETS.items():
        if code not in known:
            ledger.define_asset(DefineAsset(code, scale))
    issued = services.credentials.create_client("demo fintech", Role.CLIENT, actor=_ACTOR)
    key = services.credentials.create_api_key(issued.client.id, "make run", actor=_ACTOR)
    principal = Principal(issued.client.id, Role.CLIENT, "cli")
    customer = services.customers.create_customer(
        principal, CreateCustomer(CustomerKind.INDIVIDUAL, {"name": "Ada Lovelace"})
    )
    funded, other = (
        services.customers.open_account(
            principal, OpenCustomerAccount(customer.id, "EUR", {"demo": purpose})
        )
        for purpose in ("funded", "receiving")
    )
    _fund(ledger, funded.ledger_account_id)
    demo = {
        "client_id": issued.client.id,
        "client_secret": issued.client_secret,
        "api_key": key.api_key,
        "customer_id": customer.id,
        "funded_account_id": funded.id,
        "account_id": other.id,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump(demo, out, indent=2)
    return demo


def _fund(ledger: Any, ledger_account_id: str) -> None:
    """Credit the demo account from the platform's funding account (what a deposit would do)."""
    if _FUNDING_ACCOUNT not in {account.id for account, _ in ledger.accounts()}:
        ledger.open_account(
            OpenAccount(_FUNDING_ACCOUNT, "EUR", "funding", "platform funding (demo)", Side.DEBIT)
        )
    ledger.acting_as(_ACTOR).post_transfer(
        PostTransfer(
            f"demo-funding-{time.time_ns()}",
            (
                Posting(_FUNDING_ACCOUNT, Side.DEBIT, DEMO_FUNDS, "EUR"),
                Posting(ledger_account_id, Side.CREDIT, DEMO_FUNDS, "EUR"),
            ),
        )
    )
