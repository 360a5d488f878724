"""The screening service: load watch lists atomically, screen parties, re-screen on change.

A load reads and checks the whole file first, then writes the new version, supersedes the old
one, re-screens every recorded party against the entities that changed, and commits — all in one
transaction, so a failure anywhere leaves the previous version active. The in-memory index is
swapped only after the commit. `screen_party` is synchronous and touches the database only when
asked to record the party (`party_id`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from twinrail.compliance.adapters.list_files import Progress, list_format, read_list
from twinrail.compliance.domain.entities import IdentifierKind, ListEntity, ListFormat
from twinrail.compliance.domain.errors import ListLoadInterrupted
from twinrail.compliance.domain.events import ListVersionActivated, PartyFlagged
from twinrail.compliance.domain.index import ScreeningIndex
from twinrail.compliance.domain.names import analyse_name
from twinrail.compliance.domain.query import build_query
from twinrail.compliance.domain.results import ScreeningHit, ScreeningQuery, ScreeningResult
from twinrail.compliance.service.settings import ComplianceSettings
from twinrail.compliance.store.list_store import ListStore, ListVersion
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = ["ScreeningService", "ListLoadReport"]


@dataclass(frozen=True, slots=True)
class ListLoadReport:
    """What a load did: the new version, what changed, and the new hits on known parties."""

    version: ListVersion
    new_hits: tuple[tuple[str, ScreeningHit], ...]

    def to_dict(self) -> dict[str, object]:
        return {
            **self.version.to_dict(),
            "new_hits": [{"party_id": p, **h.to_dict()} for p, h in self.new_hits],
        }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class ScreeningService:
    """Watch lists and screening over one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        settings: ComplianceSettings | None = None,
        clock: Clock = utc_now,
        actor: str = "system",
    ) -> None:
        self.engine = engine
        self.settings = settings or ComplianceSettings()
        self.clock = clock
        self.actor = actor
        self._indexes: dict[str, ScreeningIndex] | None = None
        self._lock = threading.Lock()

    # --- lists ----------------------------------------------------------------------------

    def load_list(
        self,
        fmt: ListFormat | str,
        path: str | os.PathLike[str],
        *,
        list_name: str | None = None,
        progress: Progress | None = None,
        on_batch: Callable[[int], None] | None = None,
    ) -> ListLoadReport:
        """Load the file at `path` as the next version of `list_name` (default: the format)."""
        fmt = list_format(fmt) if isinstance(fmt, str) else fmt
        name = list_name or fmt.value
        path = Path(path)
        entities = read_list(fmt, path, progress)
        try:
            with UnitOfWork(self.engine, actor=self.actor, clock=self.clock) as uow:
                store = ListStore(uow.connection)
                previous = store.active_version(name)
                old_hashes = store.entity_hashes(name, previous.version) if previous else {}
                changed = [e for e in entities if old_hashes.get(e.entity_id) != e.content_hash()]
                removed = len(set(old_hashes) - {e.entity_id for e in entities})
                version = ListVersion(
                    list_name=name,
                    version=store.next_version(name),
                    format=fmt.value,
                    source=str(path.resolve()),
                    sha256=_sha256(path),
                    entity_count=len(entities),
                    changed_count=len(changed),
                    removed_count=removed,
                    status="active",
                    loaded_at=self.clock(),
                )
                store.insert_entities(name, version.version, entities, on_batch)
                store.activate(version)
                new_hits = self._rescreen(store, version, changed, uow)
                uow.publish(
                    [
                        ListVersionActivated(
                            name, version.version, len(entities), len(changed), removed
                        )
                    ]
                )
                uow.audit(
                    "compliance.list.load",
                    f"list:{name}",
                    version=version.version,
                    entities=len(entities),
                    changed=len(changed),
                    removed=removed,
                    sha256=version.sha256,
                    new_hits=len(new_hits),
                )
                uow.commit()
        except SQLAlchemyError as exc:
            raise ListLoadInterrupted(
                "the list load failed; the previous version stays active",
                list=name,
                cause=type(exc).__name__,
            ) from exc
        index = ScreeningIndex(name, version.version, self.settings.threshold_for(name), entities)
        with self._lock:
            if self._indexes is not None:
                self._indexes[name] = index
        return ListLoadReport(version, tuple(new_hits))

    def _rescreen(
        self, store: ListStore, version: ListVersion, changed: Sequence[ListEntity], uow: UnitOfWork
    ) -> list[tuple[str, ScreeningHit]]:
        """New hits for recorded parties against only the entities that are new or changed."""
        if not changed:
            return []
        delta = ScreeningIndex(
            version.list_name,
            version.version,
            self.settings.threshold_for(version.list_name),
            changed,
        )
        found: list[tuple[str, ScreeningHit]] = []
        now = self.clock()
        for party_id, query in list(store.parties()):
            hits = delta.screen(query)
            store.record_hits(party_id, hits, "rescreen", now)
            found.extend((party_id, h) for h in hits)
        uow.publish(
            PartyFlagged(p, h.list_name, h.list_version, h.entity_id, h.score, "rescreen")
            for p, h in found
        )
        return found

    def list_status(self) -> list[ListVersion]:
        """Every version of every list, oldest first; one per list is 'active'."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return ListStore(conn).versions()

    def indexes(self) -> dict[str, ScreeningIndex]:
        """The in-memory index of each list's active version, built from the database once."""
        with self._lock:
            if self._indexes is None:
                built: dict[str, ScreeningIndex] = {}
                with self.engine.connect().execution_options(**READ_ONLY) as conn:
                    store = ListStore(conn)
                    for v in store.versions(active_only=True):
                        threshold = self.settings.threshold_for(v.list_name)
                        built[v.list_name] = ScreeningIndex(
                            v.list_name,
                            v.version,
                            threshold,
                            store.entities(v.list_name, v.version),
                        )
                self._indexes = built
            return self._indexes

    # --- screening ------------------------------------------------------------------------

    def screen_party(
        self,
        name: str,
        birth_date: dt.date | str | None = None,
        country: str | None = None,
        identifiers: Iterable[tuple[IdentifierKind | str, str]] = (),
        *,
        party_id: str | None = None,
    ) -> ScreeningResult:
        """Screen one party against every active list; with `party_id`, record it and its hits
        so that later list changes re-screen it."""
        query = build_query(
            name,
            birth_date=birth_date,
            country=country,
            identifiers=identifiers,
            today=self.clock().date(),
        )
        result = self.screen(query)
        if party_id is not None:
            with UnitOfWork(self.engine, actor=self.actor, clock=self.clock) as uow:
                store = ListStore(uow.connection)
                store.save_party(party_id, query, self.clock())
                store.record_hits(party_id, result.hits, "screening", self.clock())
                uow.publish(
                    PartyFlagged(
                        party_id, h.list_name, h.list_version, h.entity_id, h.score, "screening"
                    )
                    for h in result.hits
                )
                uow.audit(
                    "compliance.screen",
                    f"party:{party_id}",
                    hits=len(result.hits),
                    lists=dict(result.list_versions),
                )
                uow.commit()
        return result

    def screen(self, query: ScreeningQuery) -> ScreeningResult:
        """Screen a validated query against the in-memory indexes (no database access)."""
        indexes = self.indexes()
        form = analyse_name(query.name)
        hits: list[ScreeningHit] = []
        for index in indexes.values():
            hits.extend(index.screen(query, form))
        hits.sort(key=lambda h: -h.score)
        versions = tuple(sorted((n, i.version) for n, i in indexes.items()))
        return ScreeningResult(query, tuple(hits), versions)

    def hits_for(self, party_id: str) -> list[dict[str, object]]:
        """Every hit recorded for a party, oldest first, with its origin."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return ListStore(conn).hits_for(party_id)
