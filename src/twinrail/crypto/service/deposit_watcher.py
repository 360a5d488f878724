"""The chain watcher: reads new blocks, records deposits, credits them when final, undoes reorgs.

One `DepositWatcher` per chain. Each pass (`run_once`):

1. checks that the last block it read is still on the node's chain (compare hashes; a reorg at
   the same height, as `anvil_reorg` makes, is caught here), else walks back to the common
   ancestor (see *Reorgs*);
2. reads new blocks in bounded ranges (`eth_getBlockByNumber` with transactions for native
   transfers, `eth_getLogs` for Transfer logs), checks each range's first parent hash against
   the stored block, and stores in ONE transaction the block headers, the deposits found (keyed
   by `(chain_id, tx_hash, log_index)`, -1 for native) and the checkpoint (next block to read);
3. credits every open deposit at or below the final height (the node's `finalized`/`safe` tag
   where configured and supported, else `confirmations` deep).

Crediting and the crash window. The ledger's `LedgerService` commits in its own unit of work, so
the credit and the `credited` mark cannot share one database transaction. We credit FIRST, with
a transfer id derived from the deposit's natural key and incarnation, and mark it credited
AFTERWARDS (with the `crypto.deposit_credited` event, in one unit of work). If the process dies
in between, the deposit is still open; the next pass posts the same credit again, which the
ledger answers as an idempotent replay (same id, same body), and then marks it. The reverse
order (mark, then credit) could lose a credit; this order can only repeat a replay.

Reorgs. The watcher keeps the last `keep_blocks` headers. On a mismatch it walks back through
them to the highest block whose hash the node still has; deposits above it are orphaned. Open
ones are marked `dropped` — unless the ledger already holds their credit (a crash in the window
above), in which case they are treated as credited. Credited ones get a compensating ledger entry
(`reverse_transfer`, deterministic id, again ledger first then mark), are marked `reversed`, and
raise the alert event `crypto.deposit_reversed` through the outbox. Headers above the ancestor
are forgotten and the checkpoint rewinds to it, in the same transaction, so the new fork is read
next; a transaction re-mined there becomes the deposit's next incarnation. Nothing trusts the
node's `removed` flag on logs.

Hooks. Steps that must follow deposits (payment requests, see `service.charges`) run as
`DepositHook`s inside the same unit of work that records, credits, drops or reverses them, so
their writes and events commit or roll back with the watcher's. Payments whose owner has no
ledger account in their asset (`account_for` answers None) are not recorded and are counted in
`ignored.no_account`; native transfers that are our own sweep gas top-ups (hot wallet to deposit
address) are counted in `ignored.internal_transfer` and never credited.

Checkpoint. Headers, deposits and checkpoint commit together; a kill -9 at any point leaves
either the range fully recorded or not at all, and credits are idempotent: nothing is credited
twice, nothing is skipped. Run one watcher per chain at a time (`run_forever(lease=...)`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from twinrail.crypto.domain.chains import Chain, FinalitySource, Token
from twinrail.crypto.domain.custody import AddressPurpose
from twinrail.crypto.domain.deposits import (
    BlockHeader,
    Deposit,
    DepositCredited,
    DepositReversed,
    DepositStatus,
    IgnoredCounts,
    ObservedBlock,
    confirmed_height,
)
from twinrail.crypto.domain.errors import ChainReorganised, CryptoFault, ReorgTooDeep
from twinrail.crypto.service.block_reader import JsonRpcBlockReader
from twinrail.crypto.service.deposit_books import (
    AccountResolver,
    DepositBooks,
    customer_account_is_owner,
)
from twinrail.crypto.service.ports import ChainClient
from twinrail.crypto.store import custody_store, deposit_store, sweep_store
from twinrail.ledger.domain.errors import LedgerError
from twinrail.ledger.service.ledger_service import LedgerService
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.lease import Lease
from twinrail.platform.uow import UnitOfWork

__all__ = ["DepositWatcher", "DepositHook", "WatcherStats"]

log = logging.getLogger("twinrail.crypto.watcher")


class DepositHook(Protocol):
    """A step run inside the watcher's own transaction whenever deposits change state.

    Called after deposits were recorded, credited, dropped or reversed, on the same unit of work
    (before commit), so whatever the hook writes and publishes commits atomically with them.
    """

    def deposits_changed(self, uow: UnitOfWork, chain: Chain, changed: Sequence[Deposit]) -> None:
        """React to `changed` (their new status is already written on `uow.connection`)."""
        ...


@dataclass(slots=True)
class WatcherStats:
    """Counters since this watcher object was made (for metrics)."""

    blocks_read: int = 0
    deposits_recorded: int = 0
    deposits_credited: int = 0
    deposits_dropped: int = 0
    deposits_reversed: int = 0
    reorgs: int = 0
    credit_rejections: int = 0


class DepositWatcher:
    """Watches one chain for deposits to our addresses and books them into the ledger."""

    def __init__(
        self,
        engine: Engine,
        ledger: LedgerService,
        chain: Chain,
        client: ChainClient,
        *,
        account_for: AccountResolver = customer_account_is_owner,
        start_block: int | None = None,
        max_range: int = 100,
        max_blocks_per_pass: int = 1000,
        keep_blocks: int = 256,
        clock: Clock = utc_now,
        hooks: Sequence[DepositHook] = (),
    ) -> None:
        if keep_blocks <= chain.confirmations:
            raise ValueError("keep_blocks must exceed the chain's confirmations")
        self.chain = chain
        self.ignored = IgnoredCounts()
        self.stats = WatcherStats()
        self._engine = engine
        self._client = client
        self._reader = JsonRpcBlockReader(client)
        self._books = DepositBooks(ledger, chain, account_for=account_for)
        self._start_block = start_block
        self._max_range = max(1, max_range)
        self._max_pass = max(1, max_blocks_per_pass)
        self._keep = keep_blocks
        self._clock = clock
        self._tokens: dict[str, Token] = {t.address: t for t in chain.tokens}
        self._hooks = tuple(hooks)
        self._hot_wallets: set[str] = set()

    # the loop

    def run_once(self) -> int:
        """One pass: reorg check, read new blocks, credit final deposits; returns blocks read."""
        head = self._reader.head()
        next_block = self._next_block(head)
        next_block = self._check_tip(next_block)
        ours = self._our_addresses()
        read = 0
        while next_block <= head and read < self._max_pass:
            end = min(
                head, next_block + self._max_range - 1, next_block + self._max_pass - read - 1
            )
            try:
                blocks = self._reader.read_range(next_block, end)
            except ChainReorganised:
                break  # the node moved under us: the next pass starts with the tip check
            with UnitOfWork(self._engine, clock=self._clock) as uow:
                previous = deposit_store.header(uow.connection, self.chain.chain_id, next_block - 1)
            if previous is not None and blocks[0].header.parent_hash != previous.hash:
                next_block = self._rewind_to_ancestor()
                continue
            self._record(blocks, ours, end + 1)
            read += len(blocks)
            next_block = end + 1
        self.stats.blocks_read += read
        self._credit_final(head)
        return read

    def run_forever(
        self, stop: threading.Event, interval: float = 1.0, *, lease: Lease | None = None
    ) -> None:
        """Run passes until `stop` is set; idle `interval` seconds when caught up.

        Node and store faults are logged and retried with backoff (capped at 30 s); a reorg too
        deep to resolve is raised, because an operator must decide. With `lease`, passes run only
        while this process holds it (one watcher per chain across workers).
        """
        failures = 0
        try:
            while not stop.is_set():
                if lease is not None and not lease.try_acquire():
                    stop.wait(interval)
                    continue
                try:
                    read = self.run_once()
                    failures = 0
                except ReorgTooDeep:
                    raise
                except (CryptoFault, LedgerError, DBAPIError) as exc:
                    failures += 1
                    log.warning("watcher pass failed on chain %s: %s", self.chain.chain_id, exc)
                    stop.wait(min(30.0, interval * 2 ** min(failures, 5)))
                    continue
                if read == 0:
                    stop.wait(interval)
        finally:
            if lease is not None:
                lease.release()

    # reading

    def _next_block(self, head: int) -> int:
        with UnitOfWork(self._engine) as uow:
            stored = deposit_store.next_block(uow.connection, self.chain.chain_id)
        if stored is not None:
            return stored
        if self._start_block is not None:
            return self._start_block
        # first run without a start: begin where nothing could be final yet
        return max(0, head - self.chain.confirmations)

    def _check_tip(self, next_block: int) -> int:
        """The block to read next, after undoing a reorg of the blocks already read."""
        with UnitOfWork(self._engine) as uow:
            tip = deposit_store.header(uow.connection, self.chain.chain_id, next_block - 1)
        if tip is None:
            return next_block
        current = self._reader.header(tip.number)
        if current is not None and current.hash == tip.hash:
            return next_block
        return self._rewind_to_ancestor()

    def _our_addresses(self) -> dict[str, str]:
        with UnitOfWork(self._engine) as uow:
            found = custody_store.list_addresses(uow.connection, AddressPurpose.DEPOSIT)
            hot = custody_store.list_addresses(uow.connection, AddressPurpose.HOT)
        self._hot_wallets = {a.address for a in hot}
        return {a.address: a.owner_ref for a in found}

    def _changed(self, uow: UnitOfWork, changed: Sequence[Deposit]) -> None:
        if changed:
            for hook in self._hooks:
                hook.deposits_changed(uow, self.chain, changed)

    def _deposits_in(self, blocks: Iterable[ObservedBlock], ours: dict[str, str]) -> list[Deposit]:
        now = self._clock()
        found = []
        top_ups = self._gas_top_ups(blocks)
        for block in blocks:
            for p in block.payments:
                owner = ours.get(p.receiver)
                if owner is None:
                    self.ignored.unknown_address += 1
                    continue
                if p.tx_hash in top_ups:  # ours to ours: gas for a sweep, not a deposit
                    self.ignored.internal_transfer += 1
                    continue
                if p.token is None:
                    asset, token_address = self.chain.native.symbol, None
                    if not self._succeeded(p.tx_hash):
                        self.ignored.failed_transaction += 1
                        continue
                elif p.token in self._tokens:
                    asset, token_address = self._tokens[p.token].symbol, p.token
                else:
                    self.ignored.unlisted_token += 1
                    continue
                if self._books.account_for(owner, asset) is None:
                    self.ignored.no_account += 1
                    continue
                found.append(
                    Deposit(
                        chain_id=self.chain.chain_id,
                        tx_hash=p.tx_hash,
                        log_index=p.log_index,
                        block_number=block.header.number,
                        block_hash=block.header.hash,
                        address=p.receiver,
                        owner_ref=owner,
                        asset=asset,
                        token=token_address,
                        sender=p.sender,
                        amount=p.amount,
                        status=DepositStatus.SEEN,
                        incarnation=0,
                        seen_at=now,
                    )
                )
        return found

    def _gas_top_ups(self, blocks: Iterable[ObservedBlock]) -> set[str]:
        """Native transfers in `blocks` that are our own sweep gas top-ups (by tx hash)."""
        candidates = [
            p.tx_hash
            for b in blocks
            for p in b.payments
            if p.token is None and p.sender in self._hot_wallets
        ]
        if not candidates:
            return set()
        with UnitOfWork(self._engine) as uow:
            return sweep_store.gas_top_up_hashes(uow.connection, self.chain.chain_id, candidates)

    def _succeeded(self, tx_hash: str) -> bool:
        receipt = self._client.receipt(tx_hash)
        return receipt is not None and receipt.status == 1

    def _record(self, blocks: list[ObservedBlock], ours: dict[str, str], next_block: int) -> None:
        found = self._deposits_in(blocks, ours)
        chain_id = self.chain.chain_id
        with UnitOfWork(self._engine, clock=self._clock) as uow:
            conn = uow.connection
            deposit_store.save_headers(conn, chain_id, [b.header for b in blocks])
            self.stats.deposits_recorded += deposit_store.record_deposits(
                conn, found, self._clock()
            )
            deposit_store.set_next_block(conn, chain_id, next_block, self._clock())
            deposit_store.prune_headers_below(conn, chain_id, next_block - self._keep)
            self._changed(uow, found)
            uow.commit()

    # reorgs

    def _rewind_to_ancestor(self) -> int:
        """Undo every block above the common ancestor; returns the next block to read."""
        chain_id = self.chain.chain_id
        with UnitOfWork(self._engine) as uow:
            stored = deposit_store.headers_from(uow.connection, chain_id, 0)
        ancestor = self._common_ancestor(stored)
        depth = stored[0].number - ancestor if stored else 0
        with UnitOfWork(self._engine) as uow:
            orphaned = deposit_store.deposits_above(uow.connection, chain_id, ancestor)
        credited = [
            d for d in orphaned if d.status is DepositStatus.CREDITED or self._books.is_credited(d)
        ]
        dropped = [d for d in orphaned if d not in credited]
        for d in credited:  # ledger first: a replay after a crash here is idempotent
            self._books.reverse(d)
        with UnitOfWork(self._engine, clock=self._clock) as uow:
            conn, now = uow.connection, self._clock()
            deposit_store.set_status(conn, credited, DepositStatus.REVERSED, now)
            deposit_store.set_status(conn, dropped, DepositStatus.DROPPED, now)
            deposit_store.forget_headers_above(conn, chain_id, ancestor)
            deposit_store.set_next_block(conn, chain_id, ancestor + 1, now)
            uow.publish(
                DepositReversed(d, d.reversal_id, depth, self._books.credited_account(d))
                for d in credited
            )
            self._changed(uow, [*credited, *dropped])
            uow.audit(
                "crypto.chain_reorg",
                f"chain:{chain_id}",
                outcome="alert" if credited else "ok",
                ancestor=ancestor,
                depth=depth,
                dropped=len(dropped),
                reversed=len(credited),
            )
            uow.commit()
        self.stats.reorgs += 1
        self.stats.deposits_dropped += len(dropped)
        self.stats.deposits_reversed += len(credited)
        log.warning(
            "reorg on chain %s: depth %s, %s dropped, %s reversed",
            chain_id,
            depth,
            len(dropped),
            len(credited),
        )
        return ancestor + 1

    def _common_ancestor(self, stored: list[BlockHeader]) -> int:
        for header in stored:  # highest first
            current = self._reader.header(header.number)
            if current is not None and current.hash == header.hash:
                return header.number
        raise ReorgTooDeep(
            "no common ancestor among the kept block hashes",
            chain_id=self.chain.chain_id,
            lowest_kept=stored[-1].number if stored else None,
        )

    # crediting

    def _final_height(self, head: int) -> int:
        tagged = None
        if self.chain.finality is not FinalitySource.DEPTH:
            tagged = self._reader.tagged_height(self.chain.finality.value)
        return confirmed_height(head, self.chain.confirmations, tagged)

    def _credit_final(self, head: int) -> None:
        final = self._final_height(head)
        with UnitOfWork(self._engine) as uow:
            pending = deposit_store.open_deposits(uow.connection, self.chain.chain_id)
        ready = [d for d in pending if d.block_number <= final]
        credited, rejected = self._books.credit(ready) if ready else ([], [])
        done = {d.key for d in credited}
        # not final yet, or refused by the ledger (retried every pass): both wait, confirming
        waiting = [d for d in pending if d.status is DepositStatus.SEEN and d.key not in done]
        for exc in rejected:
            log.error("deposit credit rejected by the ledger: %s", exc)
        with UnitOfWork(self._engine, clock=self._clock) as uow:
            now = self._clock()
            deposit_store.set_status(
                uow.connection, credited, DepositStatus.CREDITED, now, credited_at=now
            )
            deposit_store.set_status(uow.connection, waiting, DepositStatus.CONFIRMING, now)
            uow.publish(
                DepositCredited(d, d.credit_id, self._books.credited_account(d)) for d in credited
            )
            self._changed(uow, credited)
            uow.commit()
        self.stats.deposits_credited += len(credited)
        self.stats.credit_rejections += len(rejected)

    # queries

    def deposits(self) -> list[Deposit]:
        """Every deposit recorded on this chain, in block order."""
        with UnitOfWork(self._engine) as uow:
            return deposit_store.list_deposits(uow.connection, self.chain.chain_id)
