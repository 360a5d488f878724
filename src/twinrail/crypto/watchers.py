"""Composition of the chain watchers: one `DepositWatcher` per configured chain, with its lease.

For `twinrail worker`, one loop per chain::

    for watcher in build_deposit_watchers(engine, ledger, CryptoSettings()):
        PeriodicLoop(f"deposit-watcher-{watcher.chain.chain_id}", watcher.run_once, 1.0,
                     lease=lease_for(engine, watcher_lease_name(watcher.chain.chain_id)))
"""

from __future__ import annotations

from sqlalchemy import Engine

from twinrail.crypto.service.charges import ChargeAccounts, ChargeBook
from twinrail.crypto.service.deposit_books import AccountResolver, LedgerChart
from twinrail.crypto.service.deposit_watcher import DepositWatcher
from twinrail.crypto.settings import CryptoSettings
from twinrail.crypto.wiring import open_chain_client
from twinrail.ledger.service.ledger_service import LedgerService

__all__ = ["build_deposit_watchers", "watcher_lease_name"]


def watcher_lease_name(chain_id: int) -> str:
    """The lease under which exactly one process watches `chain_id`."""
    return f"crypto-deposit-watcher-{chain_id}"


def build_deposit_watchers(
    engine: Engine,
    ledger: LedgerService,
    settings: CryptoSettings,
    *,
    account_for: AccountResolver | None = None,
) -> list[DepositWatcher]:
    """A watcher per configured chain, each with the chain's own JSON-RPC client.

    Payments to charge addresses credit the charge's merchant account and move the charge
    (`ChargeBook` runs in the watcher's transaction); every other deposit address is resolved
    by `account_for`, by default the multi-asset `LedgerChart`.
    """
    resolver = ChargeAccounts(engine, account_for or LedgerChart(ledger))
    return [
        DepositWatcher(
            engine,
            ledger,
            chain,
            open_chain_client(chain),
            account_for=resolver,
            hooks=(ChargeBook(),),
        )
        for chain in settings.registry()
    ]
