"""Composition of the sweep loops (one per chain with thresholds) and the charge-expiry loop.

For `twinrail worker`::

    *build_sweep_loops(engine, platform.ledger, CryptoSettings()),
    build_charge_expiry_loop(engine, CryptoSettings()),

A sweep loop opens the key store, the hot wallet and the chain client on its first round, so a
worker starts without node or HSM; a failure there is a failed round, retried by the loop.
"""

from __future__ import annotations

from sqlalchemy import Engine

from twinrail.crypto.chain_loops import LazyChainStep, build_chain_loops
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.charges import expire_due_charges
from twinrail.crypto.service.fees import FeeEstimator
from twinrail.crypto.service.nonces import NonceManager
from twinrail.crypto.service.outgoing import OutgoingTransactions
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner
from twinrail.crypto.service.sweeps import Sweeper, sweep_lease_name
from twinrail.crypto.service.transfers import TransactionSender
from twinrail.crypto.settings import ChainConfig, CryptoSettings
from twinrail.crypto.wiring import open_chain_client
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.lease import lease_for
from twinrail.runtime.loops import PeriodicLoop

__all__ = ["build_sweeper", "build_sweep_loops", "build_charge_expiry_loop"]


def build_sweeper(
    engine: Engine, ledger: LedgerService, config: ChainConfig, key_store: KeyStore
) -> Sweeper:
    """The sweeper of one chain, sweeping into its hot wallet (assigned on first use)."""
    chain = config.to_domain()
    client = open_chain_client(chain)
    hot = AddressService(engine, key_store, actor="crypto.sweeper").hot_wallet(chain.chain_id)
    fees = FeeEstimator(client, config.fee_policy(), chain_id=chain.chain_id)
    sender = TransactionSender(
        client, TransactionSigner(key_store), chain_id=chain.chain_id, fees=fees
    )
    outgoing = OutgoingTransactions(client, sender, NonceManager(engine), chain_id=chain.chain_id)
    return Sweeper(
        engine,
        ledger,
        chain,
        client,
        sender,
        outgoing,
        hot_wallet=hot.address,
        thresholds=config.sweep_thresholds,
        headroom_percent=config.sweep_gas_headroom_percent,
    )


def build_sweep_loops(
    engine: Engine, ledger: LedgerService, settings: CryptoSettings
) -> list[PeriodicLoop]:
    """One leased loop per chain that has sweep thresholds; none without."""
    return build_chain_loops(
        engine,
        settings,
        name="sweeper",
        lease_name=sweep_lease_name,
        interval_s=settings.sweep_interval_s,
        step=lambda config, keys: LazyChainStep(
            lambda: build_sweeper(engine, ledger, config, keys())
        ),
        chains=[config for config in settings.chains if config.sweep_thresholds],
    )


def build_charge_expiry_loop(engine: Engine, settings: CryptoSettings) -> PeriodicLoop:
    """Moves charges whose expiry passed (new → expired, partly paid → underpaid)."""
    return PeriodicLoop(
        "charge-expiry",
        lambda: expire_due_charges(engine),
        settings.charge_expiry_interval_s,
        lease=lease_for(engine, "crypto-charge-expiry"),
    )
