"""Exact identifiers, normalised so that the same account or wallet always compares equal.

IBANs and BICs go through schwifty (checksum and registry validation). EVM addresses become
their EIP-55 checksum form, so a lower-case query matches a mixed-case listing; other chains'
addresses are case-sensitive (base58) except bech32, which is lower-cased.
"""

from __future__ import annotations

import re

from eth_hash.auto import keccak
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException

from twinrail.compliance.domain.entities import Identifier, IdentifierKind
from twinrail.compliance.domain.errors import InvalidScreeningQuery

__all__ = ["normalise_identifier", "eip55_checksum", "try_identifier"]

_EVM = re.compile(r"^0x[0-9a-fA-F]{40}$")
_BECH32 = re.compile(r"^(bc1|tb1|ltc1)[02-9ac-hj-np-z]{6,87}$", re.IGNORECASE)


def eip55_checksum(address: str) -> str:
    """The EIP-55 mixed-case form of a 20-byte hex address."""
    hex_part = address[2:].lower()
    digest = keccak(hex_part.encode()).hex()
    return "0x" + "".join(
        ch.upper() if ch.isalpha() and int(digest[i], 16) >= 8 else ch
        for i, ch in enumerate(hex_part)
    )


def _wallet(value: str) -> str:
    compact = value.strip()
    if _EVM.match(compact):
        return eip55_checksum(compact)
    if _BECH32.match(compact):
        return compact.lower()
    if not compact or any(ch.isspace() for ch in compact) or len(compact) > 128:
        raise InvalidScreeningQuery("not a wallet address", value=value)
    return compact


def normalise_identifier(kind: IdentifierKind, value: str) -> Identifier:
    """The canonical form of `value`; InvalidScreeningQuery when it is not valid for `kind`."""
    try:
        if kind is IdentifierKind.IBAN:
            return Identifier(kind, str(IBAN(value).compact))
        if kind is IdentifierKind.BIC:
            bic = BIC(value)
            # an 8-character BIC is the head office, the same institution as its 'XXX' branch
            return Identifier(kind, str(bic.compact)[:8] + (str(bic.compact)[8:] or "XXX"))
    except SchwiftyException as exc:
        raise InvalidScreeningQuery(f"invalid {kind.value}: {exc}", value=value) from None
    return Identifier(kind, _wallet(value))


def try_identifier(kind: IdentifierKind, value: str) -> Identifier | None:
    """Like `normalise_identifier`, but None for invalid values (lists carry some)."""
    try:
        return normalise_identifier(kind, value)
    except InvalidScreeningQuery:
        return None
