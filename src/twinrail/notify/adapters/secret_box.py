"""Endpoint secrets at rest: AES-256-GCM under a key-encryption key kept outside the database.

A webhook secret is a symmetric HMAC key, so it cannot be hashed like an API key: the sender
needs it back to sign. It is stored as `v1:<base64(nonce || ciphertext)>`, bound to its endpoint
id as associated data (a ciphertext copied onto another endpoint does not decrypt). The key comes
from `TWINRAIL_NOTIFY_SECRET_KEY` (base64 of 32 bytes) or, on the embedded default, from a file
created once with mode 0600; a leaked database alone reveals no secret.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from twinrail.notify.domain.errors import SecretKeyUnavailable

__all__ = ["SecretBox"]

_VERSION = "v1:"


class SecretBox:
    """Encrypts and decrypts endpoint secrets; the key is read lazily, on first use."""

    def __init__(self, key: str = "", *, key_file: Path | None = None) -> None:
        self._key_text, self._key_file = key, key_file
        self._aead: AESGCM | None = None
        self._guard = threading.Lock()

    def seal(self, endpoint_id: str, secret: str) -> str:
        nonce = os.urandom(12)
        sealed = self._cipher().encrypt(nonce, secret.encode(), endpoint_id.encode())
        return _VERSION + base64.b64encode(nonce + sealed).decode()

    def open(self, endpoint_id: str, sealed: str) -> str:
        if not sealed.startswith(_VERSION):
            raise SecretKeyUnavailable("an endpoint secret has an unknown format")
        raw = base64.b64decode(sealed[len(_VERSION) :])
        try:
            return self._cipher().decrypt(raw[:12], raw[12:], endpoint_id.encode()).decode()
        except InvalidTag as exc:
            raise SecretKeyUnavailable("an endpoint secret does not open with this key") from exc

    def _cipher(self) -> AESGCM:
        with self._guard:
            if self._aead is None:
                self._aead = AESGCM(self._load_key())
            return self._aead

    def _load_key(self) -> bytes:
        text = self._key_text or self._key_from_file()
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise SecretKeyUnavailable("the notify secret key is not base64") from exc
        if len(key) != 32:
            raise SecretKeyUnavailable("the notify secret key must be 32 bytes")
        return key

    def _key_from_file(self) -> str:
        if self._key_file is None:
            raise SecretKeyUnavailable("no notify secret key is configured")
        path = self._key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:  # O_EXCL: two processes starting together keep the one key written first
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(base64.b64encode(os.urandom(32)).decode())
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise SecretKeyUnavailable("the notify secret key file cannot be read") from exc
