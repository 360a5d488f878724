"""The root every context's error tree grows from: a stable dotted code and structured context.

Each context draws its own tree (`LedgerError`, `CryptoError`, ...) in its `domain/errors.py`;
what they share lives here once: the message safe to show a caller, the ids and values that
explain it, and a JSON-ready form in which the stable `code` can never be overwritten.
"""

from __future__ import annotations

from typing import Any

__all__ = ["TwinrailError"]


class TwinrailError(Exception):
    """Root of every error twinrail raises on purpose."""

    code = "twinrail.error"
    retryable = False

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description, safe to show to the caller (never secrets)."""
        return {**self.context, "code": self.code, "message": self.message}
