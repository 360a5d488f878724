"""The hash chain over sealed audit entries: canonical form, entry hashes, sealing and checking.

Design. Writers append entries unsealed, inside their own transactions, so the chain never sits
on the hot path. A single sealer later gives committed entries consecutive positions (`seal_seq`
1, 2, 3, ...) and chains them: each sealed entry stores the hash of the entry before it
(`prev_hash`, `GENESIS_HASH` for position 1) and its own hash over a canonical serialisation of
its content, its position and `prev_hash`. Changing any field of a sealed entry breaks its own
hash; deleting or inserting one breaks the positions or the links after it.

What the chain cannot show on its own: a forger who recomputes the hashes of every entry from
the tampered one to the tail, or who cuts entries off the tail. Publishing the tail (position
and hash) somewhere the database's writers cannot reach turns both into detectable breaks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "GENESIS_HASH",
    "CANONICAL_VERSION",
    "AuditEntry",
    "ChainTail",
    "Seal",
    "BreakKind",
    "ChainBreak",
    "ChainVerdict",
    "canonical_form",
    "entry_hash",
    "seal_entries",
    "verify_chain",
]

GENESIS_HASH = "0" * 64  # the prev_hash of the entry at position 1
CANONICAL_VERSION = 1  # part of every canonical form, so a new format can never collide with it


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """A stored audit entry; `seal_seq`, `prev_hash` and `entry_hash` are None until sealed."""

    id: int
    occurred_at: dt.datetime
    actor: str
    action: str
    subject: str
    outcome: str
    correlation_id: str | None
    details: dict[str, Any] = field(default_factory=dict)
    seal_seq: int | None = None
    prev_hash: str | None = None
    entry_hash: str | None = None

    @property
    def is_sealed(self) -> bool:
        return self.seal_seq is not None


@dataclass(frozen=True, slots=True)
class ChainTail:
    """The last sealed position and its hash: where the next seal continues the chain."""

    seal_seq: int
    entry_hash: str


@dataclass(frozen=True, slots=True)
class Seal:
    """What sealing writes onto one entry."""

    entry_id: int
    seal_seq: int
    prev_hash: str
    entry_hash: str


class BreakKind(StrEnum):
    """How a chain is broken, in the terms an investigator needs."""

    ALTERED = "altered"  # content no longer matches its hash: changed (or forged) here
    UNLINKED = "unlinked"  # prev_hash is not the hash before it: entries removed/added/rehashed
    MISSING = "missing"  # positions skipped: sealed entries were deleted here
    MISPLACED = "misplaced"  # a position the sealer never gives out (before 1): inserted


@dataclass(frozen=True, slots=True)
class ChainBreak:
    """The first broken position; `entry_id` is the entry where the break was found."""

    seal_seq: int
    entry_id: int
    kind: BreakKind
    reason: str


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """The outcome of checking a chain: how far it held, its tail, and the first break if any."""

    checked: int
    tail: ChainTail | None
    first_break: ChainBreak | None

    @property
    def ok(self) -> bool:
        return self.first_break is None


def canonical_form(entry: AuditEntry, seal_seq: int, prev_hash: str) -> bytes:
    """The exact bytes hashed for `entry` at position `seal_seq` after `prev_hash`."""
    if entry.occurred_at.tzinfo is None:
        raise ValueError(f"audit entry {entry.id} has a naive occurred_at; use UTC")
    document = {
        "v": CANONICAL_VERSION,
        "id": entry.id,
        "seal_seq": seal_seq,
        "occurred_at": entry.occurred_at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "outcome": entry.outcome,
        "correlation_id": entry.correlation_id,
        "details": entry.details,
        "prev_hash": prev_hash,
    }
    # sorted keys at every depth, no whitespace and ASCII only: one byte string per content
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return text.encode("ascii")


def entry_hash(entry: AuditEntry, seal_seq: int, prev_hash: str) -> str:
    """The sha256 hex digest of `entry`'s canonical form at `seal_seq` after `prev_hash`."""
    return hashlib.sha256(canonical_form(entry, seal_seq, prev_hash)).hexdigest()


def seal_entries(tail: ChainTail | None, entries: Sequence[AuditEntry]) -> list[Seal]:
    """Chain `entries`, in the order given, onto `tail` (None: start the chain at position 1)."""
    seq, prev = (tail.seal_seq, tail.entry_hash) if tail else (0, GENESIS_HASH)
    seals = []
    for entry in entries:
        if entry.is_sealed:
            raise ValueError(f"audit entry {entry.id} is already sealed at {entry.seal_seq}")
        seq += 1
        digest = entry_hash(entry, seq, prev)
        seals.append(Seal(entry.id, seq, prev, digest))
        prev = digest
    return seals


def verify_chain(entries: Iterable[AuditEntry]) -> ChainVerdict:
    """Check sealed `entries`, given in seal_seq order, and stop at the first broken position."""
    expected, prev = 1, GENESIS_HASH
    tail: ChainTail | None = None
    checked = 0
    for entry in entries:
        found = _first_fault(entry, expected, prev)
        if found is not None:
            return ChainVerdict(checked, tail, found)
        assert entry.seal_seq is not None and entry.entry_hash is not None  # by _first_fault
        checked += 1
        tail = ChainTail(entry.seal_seq, entry.entry_hash)
        expected, prev = entry.seal_seq + 1, entry.entry_hash
    return ChainVerdict(checked, tail, None)


def _first_fault(entry: AuditEntry, expected: int, prev: str) -> ChainBreak | None:
    """What is wrong with `entry` when position `expected` after hash `prev` is due, if anything."""
    seq = entry.seal_seq
    if seq is None:
        raise ValueError(f"audit entry {entry.id} is not sealed; verify only sealed entries")
    if seq < expected:
        return ChainBreak(
            seq,
            entry.id,
            BreakKind.MISPLACED,
            f"entry {entry.id} claims position {seq}, but the chain starts at 1 "
            f"and positions are unique: it was inserted",
        )
    if seq > expected:
        missing = str(expected) if seq == expected + 1 else f"{expected}..{seq - 1}"
        return ChainBreak(
            expected,
            entry.id,
            BreakKind.MISSING,
            f"position {missing} is missing (the chain jumps to {seq}, entry {entry.id}): "
            f"sealed entries were deleted",
        )
    if entry.prev_hash != prev:
        return ChainBreak(
            seq,
            entry.id,
            BreakKind.UNLINKED,
            f"entry {entry.id} does not link to the entry before it (prev_hash differs): "
            f"an entry was deleted, inserted or rehashed at this point",
        )
    if entry.entry_hash != entry_hash(entry, seq, prev):
        return ChainBreak(
            seq,
            entry.id,
            BreakKind.ALTERED,
            f"entry {entry.id} no longer matches its hash: it was changed or forged",
        )
    return None
