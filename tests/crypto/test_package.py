"""House rules for the crypto package: explicit exports, and tables that match the migration."""

from __future__ import annotations

import importlib
import pkgutil

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

import twinrail.crypto
import twinrail.crypto.store.tables  # noqa: F401 - registers the tables on the metadata
from twinrail.platform.db import metadata


def test_every_crypto_module_declares_what_it_exports() -> None:
    names = [twinrail.crypto.__name__] + [
        m.name
        for m in pkgutil.walk_packages(twinrail.crypto.__path__, prefix="twinrail.crypto.")
        if not m.name.endswith("__main__")
    ]
    for name in names:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{name} has no __all__"
        missing = [n for n in exported if not hasattr(module, n)]
        assert missing == [], f"{name} exports missing names {missing}"


def test_the_crypto_tables_match_their_migration(engine: Engine) -> None:
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)

    def concerns_crypto(diff: object) -> bool:
        return "crypto_" in repr(diff)

    assert [d for d in diffs if concerns_crypto(d)] == []
