"""A minimal DER codec for the few ASN.1 types eIDAS QCStatements use (SEQUENCE, OID, UTF8String).

Hand-written because the structures are tiny and fixed, and a typed, dependency-free codec keeps
the domain pure under `mypy --strict`; tests cross-check every encoding with asn1crypto.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "SEQUENCE",
    "OID",
    "UTF8_STRING",
    "DerError",
    "Tlv",
    "encode_length",
    "encode_oid",
    "encode_sequence",
    "encode_utf8",
    "decode_oid",
    "decode_all",
    "decode_one",
]

SEQUENCE = 0x30
OID = 0x06
UTF8_STRING = 0x0C


class DerError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True)
class Tlv:
    """One decoded tag-length-value element."""

    tag: int
    value: bytes


def encode_length(length: int) -> bytes:
    """The DER length octets for `length` (short form below 128, long form above)."""
    if length < 0x80:
        return bytes([length])
    body = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + encode_length(len(value)) + value


def encode_oid(dotted: str) -> bytes:
    """An OBJECT IDENTIFIER element for a dotted OID such as `0.4.0.19495.2`."""
    arcs = [int(part) for part in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] >= 40):
        raise DerError(f"not an OID: {dotted}")
    body = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return _tlv(OID, bytes(body))


def encode_utf8(text: str) -> bytes:
    """A UTF8String element."""
    return _tlv(UTF8_STRING, text.encode("utf-8"))


def encode_sequence(*items: bytes) -> bytes:
    """A SEQUENCE element of already-encoded items."""
    return _tlv(SEQUENCE, b"".join(items))


def decode_one(data: bytes) -> tuple[Tlv, bytes]:
    """The first element of `data` and the bytes after it."""
    if len(data) < 2:
        raise DerError("truncated element")
    tag, first = data[0], data[1]
    if tag & 0x1F == 0x1F:
        raise DerError("high-tag-number form is not used here")
    offset = 2
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or len(data) < 2 + count:
            raise DerError("bad length")
        length = int.from_bytes(data[2 : 2 + count], "big")
        if length < 0x80 or data[2] == 0:
            raise DerError("length not in minimal DER form")
        offset += count
    end = offset + length
    if len(data) < end:
        raise DerError("truncated value")
    return Tlv(tag, data[offset:end]), data[end:]


def decode_all(data: bytes) -> list[Tlv]:
    """Every element in `data`, which must be a whole number of elements."""
    items: list[Tlv] = []
    while data:
        item, data = decode_one(data)
        items.append(item)
    return items


def decode_oid(value: bytes) -> str:
    """The dotted form of an OBJECT IDENTIFIER's value octets."""
    if not value or value[-1] & 0x80:
        raise DerError("bad OID encoding")
    arcs: list[int] = []
    current = 0
    for byte in value:
        current = (current << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(current)
            current = 0
    first = arcs[0]
    head = [0, first] if first < 40 else [1, first - 40] if first < 80 else [2, first - 80]
    return ".".join(str(arc) for arc in head + arcs[1:])
