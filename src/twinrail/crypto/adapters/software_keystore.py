"""A development key store: one Web3 Secret Storage (v3) file per key, scrypt-encrypted at rest.

Keys are decrypted on first use and kept in process memory: this store is for development and
tests only; production custody is the PKCS#11 store, where keys never leave the token.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from pathlib import Path

from eth_account import Account
from eth_keys.datatypes import PrivateKey

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.errors import KeyStoreUnavailable, UnknownKey

__all__ = ["SoftwareKeyStore"]


class SoftwareKeyStore:
    """Keys as scrypt-encrypted JSON files in `directory`, named by address."""

    kind = "software"

    def __init__(self, directory: Path, passphrase: str, *, scrypt_n: int = 2**15) -> None:
        if not passphrase:
            raise KeyStoreUnavailable("the software key store needs a passphrase")
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._passphrase = passphrase
        self._scrypt_n = scrypt_n
        self._unlocked: dict[str, PrivateKey] = {}
        self._lock = threading.Lock()

    def _path(self, address: str) -> Path:
        return self._dir / f"{address}.json"

    def create_key(self) -> str:
        """Generate a key from the OS CSPRNG, write it encrypted, return its address."""
        key = PrivateKey(secrets.token_bytes(32))
        address = str(key.public_key.to_checksum_address())
        keyfile = Account.encrypt(
            key.to_bytes(), self._passphrase, kdf="scrypt", iterations=self._scrypt_n
        )
        path = self._path(address)
        # Write with owner-only permissions from the start, never world-readable for a moment.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(keyfile, fh)
        with self._lock:
            self._unlocked[address] = key
        return address

    def addresses(self) -> list[str]:
        """Every address with a key file, sorted."""
        return sorted(checksum_address(p.stem) for p in self._dir.glob("0x*.json"))

    def _key(self, address: str) -> PrivateKey:
        address = checksum_address(address)
        with self._lock:
            key = self._unlocked.get(address)
            if key is not None:
                return key
            path = self._path(address)
            if not path.exists():
                raise UnknownKey("no key for this address", address=address, store=self.kind)
            try:
                secret = Account.decrypt(path.read_text(), self._passphrase)
            except ValueError:
                raise KeyStoreUnavailable(
                    "cannot decrypt the key file (wrong passphrase?)", address=address
                ) from None
            key = PrivateKey(bytes(secret))
            if key.public_key.to_checksum_address() != address:
                raise KeyStoreUnavailable("key file does not match its address", address=address)
            self._unlocked[address] = key
            return key

    def public_key(self, address: str) -> bytes:
        """The 65-byte uncompressed public key."""
        return b"\x04" + bytes(self._key(address).public_key.to_bytes())

    def sign_digest(self, address: str, digest: bytes) -> bytes:
        """Raw r || s over `digest` (the recovery id is recomputed by the shared signer)."""
        sig = self._key(address).sign_msg_hash(digest)
        r, s = int(sig.r), int(sig.s)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def close(self) -> None:
        """Forget the unlocked keys."""
        with self._lock:
            self._unlocked.clear()
