"""Watch-list versions, screened parties and hits: rows in, domain values out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from twinrail.compliance.domain.entities import Identifier, IdentifierKind, ListEntity
from twinrail.compliance.domain.results import ScreeningHit, ScreeningQuery
from twinrail.compliance.store.tables import (
    list_entities,
    list_versions,
    screened_parties,
    screening_hits,
)

__all__ = ["ListVersion", "ListStore", "BATCH_SIZE"]

BATCH_SIZE = 5000


@dataclass(frozen=True, slots=True)
class ListVersion:
    """One load of one list."""

    list_name: str
    version: int
    format: str
    source: str
    sha256: str
    entity_count: int
    changed_count: int
    removed_count: int
    status: str
    loaded_at: dt.datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "version": self.version,
            "format": self.format,
            "source": self.source,
            "sha256": self.sha256,
            "entities": self.entity_count,
            "changed": self.changed_count,
            "removed": self.removed_count,
            "status": self.status,
            "loaded_at": self.loaded_at.isoformat(),
        }


class ListStore:
    """Compliance persistence on one connection; never commits (the unit of work does)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def active_version(self, list_name: str) -> ListVersion | None:
        row = self.conn.execute(
            select(list_versions).where(
                list_versions.c.list_name == list_name, list_versions.c.status == "active"
            )
        ).first()
        return ListVersion(**row._mapping) if row else None

    def next_version(self, list_name: str) -> int:
        current = self.conn.scalar(
            select(func.max(list_versions.c.version)).where(list_versions.c.list_name == list_name)
        )
        return (current or 0) + 1

    def versions(self, active_only: bool = False) -> list[ListVersion]:
        query = select(list_versions).order_by(list_versions.c.list_name, list_versions.c.version)
        if active_only:
            query = query.where(list_versions.c.status == "active")
        return [ListVersion(**row._mapping) for row in self.conn.execute(query)]

    def entity_hashes(self, list_name: str, version: int) -> dict[str, str]:
        rows = self.conn.execute(
            select(list_entities.c.entity_id, list_entities.c.content_hash).where(
                list_entities.c.list_name == list_name, list_entities.c.version == version
            )
        )
        return {str(k): str(v) for k, v in rows}

    def entities(self, list_name: str, version: int) -> Iterator[ListEntity]:
        rows = self.conn.execute(
            select(list_entities.c.data).where(
                list_entities.c.list_name == list_name, list_entities.c.version == version
            )
        )
        for (data,) in rows:
            yield ListEntity.from_dict(data)

    def insert_entities(
        self,
        list_name: str,
        version: int,
        entities: Sequence[ListEntity],
        on_batch: Callable[[int], None] | None = None,
    ) -> None:
        """Insert in batches; `on_batch(rows so far)` runs after each (progress, interruption)."""
        for start in range(0, len(entities), BATCH_SIZE):
            batch = entities[start : start + BATCH_SIZE]
            self.conn.execute(
                insert(list_entities),
                [
                    {
                        "list_name": list_name,
                        "version": version,
                        "entity_id": e.entity_id,
                        "content_hash": e.content_hash(),
                        "data": e.to_dict(),
                    }
                    for e in batch
                ],
            )
            if on_batch is not None:
                on_batch(start + len(batch))

    def activate(self, new: ListVersion) -> None:
        """Supersede the active version of the list and record `new` as active."""
        self.conn.execute(
            update(list_versions)
            .where(list_versions.c.list_name == new.list_name, list_versions.c.status == "active")
            .values(status="superseded")
        )
        self.conn.execute(insert(list_versions).values(**_as_row(new)))

    def save_party(self, party_id: str, query: ScreeningQuery, at: dt.datetime) -> None:
        row = {
            "name": query.name,
            "birth_date": query.birth_date.isoformat() if query.birth_date else None,
            "country": query.country,
            "identifiers": [[i.kind.value, i.value] for i in query.identifiers],
            "screened_at": at,
        }
        done = self.conn.execute(
            update(screened_parties).where(screened_parties.c.party_id == party_id).values(**row)
        )
        if not done.rowcount:
            self.conn.execute(insert(screened_parties).values(party_id=party_id, **row))

    def parties(self) -> Iterator[tuple[str, ScreeningQuery]]:
        for row in self.conn.execute(
            select(screened_parties).order_by(screened_parties.c.party_id)
        ):
            yield (
                row.party_id,
                ScreeningQuery(
                    name=row.name,
                    birth_date=dt.date.fromisoformat(row.birth_date) if row.birth_date else None,
                    country=row.country,
                    identifiers=tuple(Identifier(IdentifierKind(k), v) for k, v in row.identifiers),
                ),
            )

    def record_hits(
        self, party_id: str, hits: Sequence[ScreeningHit], origin: str, at: dt.datetime
    ) -> None:
        if not hits:
            return
        self.conn.execute(
            insert(screening_hits),
            [
                {
                    "party_id": party_id,
                    "list_name": h.list_name,
                    "list_version": h.list_version,
                    "entity_id": h.entity_id,
                    "score": h.score,
                    "origin": origin,
                    "hit": h.to_dict(),
                    "recorded_at": at,
                }
                for h in hits
            ],
        )

    def hits_for(self, party_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            select(screening_hits.c.origin, screening_hits.c.hit)
            .where(screening_hits.c.party_id == party_id)
            .order_by(screening_hits.c.id)
        )
        return [{"origin": origin, **hit} for origin, hit in rows]


def _as_row(version: ListVersion) -> dict[str, Any]:
    return {field: getattr(version, field) for field in ListVersion.__dataclass_fields__}
