"""Building a screening query from untrusted input: clear errors instead of odd matches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from twinrail.compliance.domain.countries import country_code
from twinrail.compliance.domain.entities import IdentifierKind
from twinrail.compliance.domain.errors import InvalidScreeningQuery
from twinrail.compliance.domain.identifiers import normalise_identifier
from twinrail.compliance.domain.names import analyse_name
from twinrail.compliance.domain.results import ScreeningQuery

__all__ = ["build_query", "MAX_NAME_LENGTH", "EARLIEST_BIRTH_DATE"]

MAX_NAME_LENGTH = 300
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def build_query(
    name: str,
    *,
    birth_date: dt.date | str | None = None,
    country: str | None = None,
    identifiers: Iterable[tuple[IdentifierKind | str, str]] = (),
    today: dt.date,
) -> ScreeningQuery:
    """A validated query; InvalidScreeningQuery for an empty name (without identifiers),
    a birth date before 1900 or in the future, an unknown country or an invalid identifier."""
    name = " ".join((name or "").split())
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidScreeningQuery("name too long", length=len(name), limit=MAX_NAME_LENGTH)
    ids = tuple(normalise_identifier(IdentifierKind(kind), value) for kind, value in identifiers)
    if not analyse_name(name).tokens and not ids:
        raise InvalidScreeningQuery("a name (with letters or digits) or an identifier is required")
    if isinstance(birth_date, str):
        try:
            birth_date = dt.date.fromisoformat(birth_date)
        except ValueError:
            raise InvalidScreeningQuery("birth date is not YYYY-MM-DD", value=birth_date) from None
    if birth_date is not None and not EARLIEST_BIRTH_DATE <= birth_date <= today:
        raise InvalidScreeningQuery("absurd birth date", value=birth_date.isoformat())
    code = None
    if country:
        code = country_code(country)
        if code is None:
            raise InvalidScreeningQuery("unknown country", value=country)
    return ScreeningQuery(name=name, birth_date=birth_date, country=code, identifiers=ids)
