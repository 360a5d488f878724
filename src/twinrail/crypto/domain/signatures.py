"""secp256k1 ECDSA signatures as Ethereum needs them: low-s (EIP-2) with a recovery parity."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SECP256K1_N", "Signature", "split_raw_signature", "normalise_low_s"]

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = SECP256K1_N // 2


@dataclass(frozen=True, slots=True)
class Signature:
    """An ECDSA signature with `s` in the lower half of the curve order and `v` in {0, 1}."""

    r: int
    s: int
    v: int

    def __post_init__(self) -> None:
        if not (0 < self.r < SECP256K1_N and 0 < self.s <= _HALF_N and self.v in (0, 1)):
            raise ValueError("not a canonical low-s signature")

    def to_bytes(self) -> bytes:
        """r || s || v as 65 bytes (v as 27/28, the form `ecrecover` and wallets expect)."""
        return self.r.to_bytes(32, "big") + self.s.to_bytes(32, "big") + bytes([27 + self.v])


def split_raw_signature(raw: bytes) -> tuple[int, int]:
    """(r, s) from the 64-byte r || s that PKCS#11 CKM_ECDSA returns."""
    if len(raw) != 64:
        raise ValueError(f"expected 64 bytes of r || s, got {len(raw)}")
    return int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")


def normalise_low_s(r: int, s: int) -> tuple[int, int, bool]:
    """(r, s', flipped): s' = n - s when s is in the upper half; `flipped` inverts the parity."""
    if not (0 < r < SECP256K1_N and 0 < s < SECP256K1_N):
        raise ValueError("signature component out of range")
    if s > _HALF_N:
        return r, SECP256K1_N - s, True
    return r, s, False
