"""Input checks shared by the request parsers: each failure is a FORMAT_ERROR naming the field."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from twinrail.sandbox.bank.domain.errors import FormatError

__all__ = [
    "require_object",
    "require_bool",
    "require_int",
    "parse_date",
    "normalise_iban",
    "iban_checksum_ok",
]

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def require_object(value: Any, path: str) -> dict[str, Any]:
    """`value` as a JSON object."""
    if not isinstance(value, dict):
        raise FormatError(f"{path} must be an object")
    return value


def require_bool(value: Any, path: str) -> bool:
    """`value` as a JSON boolean (not 0/1, not a string)."""
    if not isinstance(value, bool):
        raise FormatError(f"{path} must be a boolean")
    return value


def require_int(value: Any, path: str, *, minimum: int) -> int:
    """`value` as a JSON integer of at least `minimum`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FormatError(f"{path} must be an integer >= {minimum}")
    return value


def parse_date(value: Any, path: str, *, location: Any = "payload") -> dt.date:
    """An ISO date `YYYY-MM-DD`."""
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise FormatError(f"{path} must be a date YYYY-MM-DD", location=location)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise FormatError(f"{path} is not a calendar date", location=location) from None


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 mod-97 check of an IBAN in electronic form."""
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(digits) % 97 == 1


def normalise_iban(value: Any, path: str) -> str:
    """An IBAN in electronic form (no spaces, upper case) with a valid checksum."""
    if not isinstance(value, str):
        raise FormatError(f"{path} must be a string")
    iban = value.replace(" ", "").upper()
    if not _IBAN.match(iban) or not iban_checksum_ok(iban):
        raise FormatError(f"{path} is not a valid IBAN")
    return iban
