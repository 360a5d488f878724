"""Resource ids: a type prefix, then a time-ordered, random body (sortable, unguessable)."""

from __future__ import annotations

import hashlib
import secrets
import time

__all__ = ["new_id", "new_secret", "hash_secret"]


def new_id(prefix: str) -> str:
    """A fresh id such as `cus_0187f2c4a1b2c3d4e5f6a7b8`; later ids sort after earlier ones."""
    return f"{prefix}_{time.time_ns() // 1000:014x}{secrets.token_hex(9)}"


def new_secret() -> str:
    """A 256-bit random secret, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    """SHA-256 of a secret.

    Client secrets and API keys are 256-bit random values, not passwords: a fast hash is enough
    because there is nothing to brute-force, and it keeps authentication off the CPU budget.
    """
    return hashlib.sha256(secret.encode()).hexdigest()
