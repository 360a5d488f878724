"""Per-chain leased loops whose heavy parts (key store, node, hot wallet) open on first use.

Both the sweep and the withdrawal loops are built this way, so a worker starts without node or
HSM; a failure while opening is a failed round (logged, retried with backoff by the loop).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Protocol

from sqlalchemy import Engine

from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.settings import ChainConfig, CryptoSettings
from twinrail.crypto.wiring import open_key_store
from twinrail.platform.lease import lease_for
from twinrail.runtime.loops import PeriodicLoop

__all__ = ["Runner", "LazyChainStep", "shared_key_store", "build_chain_loops"]


class Runner(Protocol):
    """What a loop step drives: one round, returning how much it did."""

    def run_once(self) -> int: ...


class LazyChainStep:
    """A loop step that builds its runner on first use (once `has_work`, when given, says so)."""

    def __init__(
        self, build: Callable[[], Runner], *, has_work: Callable[[], bool] | None = None
    ) -> None:
        self._build = build
        self._has_work = has_work
        self._runner: Runner | None = None

    def __call__(self) -> int:
        if self._runner is None:
            if self._has_work is not None and not self._has_work():
                return 0
            self._runner = self._build()
        return self._runner.run_once()


def shared_key_store(settings: CryptoSettings) -> Callable[[], KeyStore]:
    """A getter that opens the configured key store once, on first call, for every loop."""
    opened: list[KeyStore] = []
    guard = threading.Lock()

    def keys() -> KeyStore:
        with guard:
            if not opened:
                opened.append(open_key_store(settings))
            return opened[0]

    return keys


def build_chain_loops(
    engine: Engine,
    settings: CryptoSettings,
    *,
    name: str,
    lease_name: Callable[[int], str],
    interval_s: float,
    step: Callable[[ChainConfig, Callable[[], KeyStore]], Callable[[], int]],
    chains: Iterable[ChainConfig] | None = None,
) -> list[PeriodicLoop]:
    """One loop `<name>-<chain id>` per chain (all configured ones by default), each leased.

    `step(config, keys)` makes the chain's step; `keys` opens the one shared key store.
    """
    keys = shared_key_store(settings)
    return [
        PeriodicLoop(
            f"{name}-{config.chain_id}",
            step(config, keys),
            interval_s,
            lease=lease_for(engine, lease_name(config.chain_id)),
        )
        for config in (settings.chains if chains is None else chains)
    ]
