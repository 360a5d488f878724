"""The 2048-bit log bloom of a block header (yellow paper, section 4.3.1): may it hold an item?"""

from __future__ import annotations

from eth_utils.crypto import keccak

__all__ = ["bloom_may_contain"]


def bloom_may_contain(bloom: bytes, item: bytes) -> bool:
    """False if `item` (a log address or topic) is certainly absent; True if it may be present."""
    if len(bloom) != 256:
        raise ValueError("a log bloom has 256 bytes")
    digest = keccak(item)
    for i in (0, 2, 4):
        bit = ((digest[i] << 8) | digest[i + 1]) & 2047
        if not bloom[255 - bit // 8] & (1 << (bit % 8)):
            return False
    return True
