"""Composition of the withdrawal loops: one per configured chain, each under its own lease.

For `twinrail worker`::

    *build_withdrawal_loops(engine, platform.ledger, CryptoSettings()),

A loop opens the key store, the hot wallet and the chain client only once its chain has an open
withdrawal, so a worker with nothing to pay out needs neither node nor HSM; a failure there is
a failed round (logged, retried with backoff), never a worker that cannot start.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine

from twinrail.crypto.chain_loops import LazyChainStep, build_chain_loops
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.withdrawal_processor import Probe, WithdrawalProcessor
from twinrail.crypto.settings import ChainConfig, CryptoSettings
from twinrail.crypto.store import withdrawal_store
from twinrail.crypto.wiring import open_chain_client
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.uow import UnitOfWork
from twinrail.runtime.loops import PeriodicLoop

__all__ = [
    "build_withdrawal_loops",
    "build_withdrawal_processor",
    "withdrawal_lease_name",
    "has_open_withdrawals",
]


def withdrawal_lease_name(chain_id: int) -> str:
    """The lease under which one process at a time pays out on `chain_id`."""
    return f"crypto-withdrawals-{chain_id}"


def has_open_withdrawals(engine: Engine, chain_id: int) -> bool:
    with UnitOfWork(engine) as uow:
        return bool(withdrawal_store.open_withdrawals(uow.connection, chain_id, limit=1))


def build_withdrawal_processor(
    engine: Engine,
    ledger: LedgerService,
    settings: CryptoSettings,
    config: ChainConfig,
    key_store: KeyStore,
    *,
    probe: Probe | None = None,
) -> WithdrawalProcessor:
    """The processor of one chain, paying out from its hot wallet (assigned on first use)."""
    chain = config.to_domain()
    hot = AddressService(engine, key_store, actor="crypto.withdrawals").hot_wallet(chain.chain_id)
    return WithdrawalProcessor(
        engine,
        ledger,
        chain,
        open_chain_client(chain),
        TransactionSigner(key_store),
        hot.address,
        policy=config.fee_policy(),
        stuck_after=dt.timedelta(seconds=settings.withdrawal_stuck_after_s),
        probe=probe,
    )


def build_withdrawal_loops(
    engine: Engine, ledger: LedgerService, settings: CryptoSettings
) -> list[PeriodicLoop]:
    """One leased loop per configured chain; the key store is opened once, when first needed."""
    return build_chain_loops(
        engine,
        settings,
        name="withdrawals",
        lease_name=withdrawal_lease_name,
        interval_s=settings.withdrawal_interval_s,
        step=lambda config, keys: LazyChainStep(
            lambda: build_withdrawal_processor(engine, ledger, settings, config, keys()),
            has_work=lambda: has_open_withdrawals(engine, config.chain_id),
        ),
    )
