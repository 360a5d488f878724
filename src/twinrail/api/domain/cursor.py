"""Opaque pagination cursors: the last id of a page, in URL-safe base64 with a version tag."""

from __future__ import annotations

import base64
import binascii

from twinrail.api.domain.errors import InvalidCursor

__all__ = ["encode_cursor", "decode_cursor"]

_TAG = "v1:"


def encode_cursor(last_id: str) -> str:
    """The cursor that resumes a listing after `last_id`."""
    return base64.urlsafe_b64encode((_TAG + last_id).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The id a cursor resumes after; InvalidCursor if it was not made by `encode_cursor`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidCursor("the cursor is not valid") from exc
    if not text.startswith(_TAG) or len(text) > 200:
        raise InvalidCursor("the cursor is not valid")
    return text[len(_TAG) :]
