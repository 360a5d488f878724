"""One statement and its commit in one round trip: rows returned, durable, errors as usual."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Column, Engine, MetaData, String, Table, select
from sqlalchemy.exc import IntegrityError

from twinrail.platform.bulk import execute_and_commit
from twinrail.platform.types import UtcDateTime

_metadata = MetaData()
notes = Table(
    "test_execute_and_commit_notes",
    _metadata,
    Column("id", String(40), primary_key=True),
    Column("at", UtcDateTime, nullable=False),
)


@pytest.fixture
def table(engine: Engine) -> Table:
    _metadata.create_all(engine)
    return notes


def test_the_row_is_committed_and_returning_answers(engine: Engine, table: Table) -> None:
    note_id = uuid.uuid4().hex
    at = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    with engine.connect() as conn:
        rows = execute_and_commit(
            conn, table.insert().values(id=note_id, at=at).returning(table.c.id)
        )
    assert rows == [(note_id,)]
    with engine.connect() as other:  # committed: another connection sees it, in UTC
        stored = other.execute(select(table.c.at).where(table.c.id == note_id)).scalar_one()
    assert stored == at and stored.tzinfo is dt.UTC


def test_a_failed_statement_raises_integrity_error_and_leaves_the_connection_usable(
    engine: Engine, table: Table
) -> None:
    note_id = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        execute_and_commit(conn, table.insert().values(id=note_id, at=now))
        with pytest.raises(IntegrityError):
            execute_and_commit(conn, table.insert().values(id=note_id, at=now))
        assert (
            execute_and_commit(conn, table.update().where(table.c.id == note_id).values(at=now))
            == []
        )
        assert conn.execute(select(table.c.id).where(table.c.id == note_id)).scalar_one() == note_id
