"""EVM addresses: EIP-55 validation and derivation from a secp256k1 public key."""

from __future__ import annotations

import re

from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from twinrail.crypto.domain.errors import InvalidAddress

__all__ = ["checksum_address", "address_from_public_key", "public_key_from_ec_point"]

_HEX_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")


def checksum_address(value: str) -> str:
    """The EIP-55 form of `value`; a mixed-case input must already carry a valid checksum."""
    if not isinstance(value, str) or not _HEX_ADDRESS.match(value):
        raise InvalidAddress("not a 20-byte hex address", address=str(value))
    checksummed = str(to_checksum_address(value))
    body = value[2:]
    # All-lower or all-upper input carries no checksum; mixed case must match it exactly.
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise InvalidAddress("address checksum does not match (EIP-55)", address=value)
    return checksummed


def address_from_public_key(public_key: bytes) -> str:
    """The checksummed address of a 64-byte (X||Y) or 65-byte (04||X||Y) public key."""
    if len(public_key) == 65 and public_key[0] == 4:
        public_key = public_key[1:]
    if len(public_key) != 64:
        raise ValueError("expected an uncompressed secp256k1 public key")
    return str(to_checksum_address(keccak(public_key)[-20:]))


def public_key_from_ec_point(ec_point: bytes) -> bytes:
    """The 65-byte uncompressed point from a PKCS#11 CKA_EC_POINT (a DER OCTET STRING)."""
    if len(ec_point) == 65 and ec_point[0] == 4:
        return ec_point  # some tokens return the raw point
    if len(ec_point) == 67 and ec_point[0] == 0x04 and ec_point[1] == 65 and ec_point[2] == 4:
        return ec_point[2:]
    raise ValueError("unsupported CKA_EC_POINT encoding (expected an uncompressed point)")
