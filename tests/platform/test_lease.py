"""Leases for singleton loops: the same contract on PostgreSQL, SQLite files and in-process."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from tests.platform.conftest import wait_until
from twinrail.platform.db import create_db_engine
from twinrail.platform.lease import (
    AdvisoryLockLease,
    FileLease,
    Lease,
    LocalLease,
    advisory_key,
    lease_for,
)

LeaseFactory = Callable[[str], Lease]


@pytest.fixture(
    params=[pytest.param("postgresql", marks=pytest.mark.postgres), "sqlite-file", "local"]
)
def new_lease(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[LeaseFactory]:
    """Make leases of one kind that compete with each other; all released afterwards."""
    made: list[Lease] = []
    engine: Engine | None = None
    if request.param == "postgresql":
        engine = create_db_engine(request.getfixturevalue("postgres_database"))
    prefix = uuid.uuid4().hex[:8]  # names of this test's own, never shared with another test

    def make(name: str) -> Lease:
        name = f"{prefix}-{name}"
        if engine is not None:
            lease: Lease = AdvisoryLockLease(engine, name)
        elif request.param == "sqlite-file":
            lease = FileLease(f"{tmp_path}/twinrail.db", name)
        else:
            lease = LocalLease(name)
        made.append(lease)
        return lease

    yield make
    for lease in made:
        lease.release()
    if engine is not None:
        engine.dispose()


def test_only_one_holder_leads_at_a_time(new_lease: LeaseFactory):
    first, second = new_lease("relay"), new_lease("relay")
    assert first.try_acquire()
    assert not second.try_acquire()
    assert first.held and not second.held


def test_a_holder_keeps_its_lease_when_it_asks_again(new_lease: LeaseFactory):
    first, second = new_lease("relay"), new_lease("relay")
    assert first.try_acquire()
    assert first.try_acquire()
    first.release()  # one release frees it, however often it was confirmed
    assert second.try_acquire()


def test_releasing_lets_another_holder_take_over(new_lease: LeaseFactory):
    first, second = new_lease("relay"), new_lease("relay")
    assert first.try_acquire()
    first.release()
    assert not first.held
    assert second.try_acquire()
    assert not first.try_acquire()


def test_releasing_a_lease_not_held_does_nothing(new_lease: LeaseFactory):
    lease = new_lease("relay")
    lease.release()
    assert lease.try_acquire()


def test_leases_with_different_names_are_independent(new_lease: LeaseFactory):
    assert new_lease("relay").try_acquire()
    assert new_lease("saga-runner").try_acquire()


def test_a_lease_is_released_when_its_with_block_ends(new_lease: LeaseFactory):
    with new_lease("relay") as first:
        assert first.try_acquire()
    assert new_lease("relay").try_acquire()


@pytest.mark.postgres
def test_a_holder_whose_session_died_stands_down_and_the_lock_passes_on(postgres_database: str):
    engine = create_db_engine(postgres_database)
    name = f"relay-{uuid.uuid4().hex[:8]}"
    first, second = AdvisoryLockLease(engine, name), AdvisoryLockLease(engine, name)
    try:
        assert first.try_acquire()
        with engine.connect() as admin:
            # What a crashed worker or a network cut looks like to PostgreSQL.
            admin.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND pid <> pg_backend_pid() "
                    "AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": advisory_key(name)},
            )
            admin.commit()
        wait_until(second.try_acquire)  # the backend ends a moment after it is told to
        assert not first.try_acquire()
        assert not first.held
    finally:
        first.release()
        second.release()
        engine.dispose()


def test_lease_for_picks_a_file_lock_beside_a_sqlite_database(tmp_path: os.PathLike[str]):
    engine = create_db_engine(f"sqlite:///{tmp_path}/twinrail.db")
    lease = lease_for(engine, "outbox relay")
    assert isinstance(lease, FileLease)
    assert lease.path.name == "twinrail.db.outbox_relay.lease"
    assert isinstance(lease_for(create_db_engine("sqlite://"), "x"), LocalLease)


@pytest.mark.postgres
def test_lease_for_picks_an_advisory_lock_on_postgresql(postgres_database: str):
    engine = create_db_engine(postgres_database)
    assert isinstance(lease_for(engine, "outbox-relay"), AdvisoryLockLease)
    engine.dispose()
