"""Column types that keep money exact and time in UTC on both SQLite and PostgreSQL.

Amounts are integers of minor units up to 10^78 - 1 (wei-sized). PostgreSQL stores them as
NUMERIC(78,0). SQLite has no integer wider than 64 bits, so there they are stored as text in a
sign-prefixed, zero-padded form whose byte order is numeric order ("n" sorts before "p"), and
summed by the `amount_sum` aggregate that this module registers on every SQLite connection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer, Numeric, String
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.types import TypeDecorator, TypeEngine

__all__ = ["Amount", "BigId", "UtcDateTime", "amount_sum", "encode_amount", "decode_amount"]

# An autoincrementing 64-bit key; SQLite only autoincrements a column declared INTEGER.
BigId = BigInteger().with_variant(Integer, "sqlite")

_WIDTH = 80  # digits: room for sums of many 78-digit amounts
_SHIFT = 10**_WIDTH


def encode_amount(value: int) -> str:
    """Encode an integer as text whose lexicographic order is its numeric order."""
    if value >= 0:
        if value >= _SHIFT:
            raise OverflowError("amount too large to store")
        return "p" + str(value).zfill(_WIDTH)
    if -value >= _SHIFT:
        raise OverflowError("amount too small to store")
    return "n" + str(_SHIFT + value).zfill(_WIDTH)


def decode_amount(text: str) -> int:
    """Inverse of `encode_amount`."""
    digits = int(text[1:])
    return digits if text[0] == "p" else digits - _SHIFT


class Amount(TypeDecorator[int]):
    """An exact integer amount: NUMERIC(78,0) on PostgreSQL, sortable text on SQLite."""

    impl = Numeric(78, 0)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(_WIDTH + 1))
        return dialect.type_descriptor(Numeric(78, 0))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return encode_amount(int(value))
        return int(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return decode_amount(value)
        return int(value)

    def bind_processor(self, dialect: Dialect) -> Any:
        # Bypass Numeric's own bind processing: on some drivers it goes through float, which
        # would round anything above 2^53. psycopg sends a Python int to NUMERIC exactly.
        def process(value: int | None) -> Any:
            return self.process_bind_param(value, dialect)

        return process


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC datetime: timestamptz on PostgreSQL, fixed-width text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not accepted; use UTC")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        if value is None:
            return None
        moment: dt.datetime = (
            dt.datetime.fromisoformat(value) if isinstance(value, str) else value
        )  # SQLite aggregates (min, max) return text
        if moment.tzinfo is None:
            return moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(dt.UTC)


class amount_sum(GenericFunction[int]):  # noqa: N801 - SQL function names are lower case
    """Exact SUM over an `Amount` column on either database."""

    type = Amount()
    inherit_cache = True
    name = "amount_sum"


@compiles(amount_sum)
def _sum_default(element: amount_sum, compiler: Any, **kw: Any) -> str:
    return f"sum({compiler.process(element.clauses, **kw)})"


@compiles(amount_sum, "sqlite")
def _sum_sqlite(element: amount_sum, compiler: Any, **kw: Any) -> str:
    return f"amount_sum({compiler.process(element.clauses, **kw)})"


class SqliteAmountSum:
    """The SQLite aggregate behind `amount_sum`: decodes, adds exactly, re-encodes."""

    def __init__(self) -> None:
        self.total = 0
        self.seen = False

    def step(self, value: str | None) -> None:
        if value is not None:
            self.total += decode_amount(value)
            self.seen = True

    def finalize(self) -> str | None:
        return encode_amount(self.total) if self.seen else None
