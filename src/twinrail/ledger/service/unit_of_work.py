"""The ledger's unit of work: the shared transaction plus the ledger store on its connection."""

from __future__ import annotations

from typing import Self

from twinrail.ledger.store.ledger_store import LedgerStore
from twinrail.platform.bulk import StagedWrite
from twinrail.platform.uow import UnitOfWork

__all__ = ["LedgerUnitOfWork"]


class LedgerUnitOfWork(UnitOfWork):
    """A unit of work that also exposes `ledger`, the ledger store on the same transaction."""

    ledger: LedgerStore

    def __enter__(self) -> Self:
        super().__enter__()
        self.ledger = LedgerStore(self.connection)
        return self

    def staged_writes(self) -> list[StagedWrite]:
        return self.ledger.take_staged()

    def has_staged_rows(self) -> bool:
        return self.ledger.has_staged_rows()
