"""Custody in a PKCS#11 token (SoftHSM2 locally, a real HSM in production).

Keys are secp256k1 pairs generated inside the token with CKA_SENSITIVE true and CKA_EXTRACTABLE
false, labelled with their address (CKA_ID holds the 20 address bytes). Signing sends the 32-byte
digest to the token with CKM_ECDSA and gets back raw r || s: the private key never exists in this
process. One session is shared by the store's threads behind a lock, because a PKCS#11 session
must not be used by two threads at once (see `_Login` for why it is also shared between stores).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from typing import Any

import pkcs11
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass
from pkcs11.exceptions import PKCS11Error
from pkcs11.util.ec import encode_named_curve_parameters

from twinrail.crypto.domain.addresses import (
    address_from_public_key,
    checksum_address,
    public_key_from_ec_point,
)
from twinrail.crypto.domain.errors import KeyStoreUnavailable, UnknownKey

__all__ = ["Pkcs11KeyStore", "PRIVATE_KEY_TEMPLATE"]

# Why each attribute: SENSITIVE stops CKA_VALUE from being read, EXTRACTABLE false stops wrapping
# it out, TOKEN persists it, PRIVATE requires login to see it, SIGN is its only use.
PRIVATE_KEY_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.PRIVATE: True,
    Attribute.SENSITIVE: True,
    Attribute.EXTRACTABLE: False,
    Attribute.SIGN: True,
    Attribute.DERIVE: False,
}
_PUBLIC_KEY_TEMPLATE: dict[Attribute, Any] = {
    Attribute.TOKEN: True,
    Attribute.VERIFY: True,
}


class _Login:
    """One logged-in session per token and process, shared by every store on that token.

    PKCS#11 login state belongs to the application, not the session: a second C_Login fails with
    USER_ALREADY_LOGGED_IN and closing any session that logged in logs all of them out. So stores
    share one session (and its lock) and the last one to close logs out. A later store must
    present the same PIN; we keep only a keyed digest of it to compare, never the PIN.
    """

    _secret = os.urandom(32)

    def __init__(self, session: Any, pin: str) -> None:
        self.session = session
        self.lock = threading.RLock()
        self.users = 0
        self._pin_digest = self.digest(pin)

    @classmethod
    def digest(cls, pin: str) -> bytes:
        return hmac.new(cls._secret, pin.encode(), hashlib.sha256).digest()

    def accepts(self, pin: str) -> bool:
        return hmac.compare_digest(self._pin_digest, self.digest(pin))


_logins: dict[tuple[str, str], _Login] = {}
_logins_lock = threading.Lock()


def _login(module_path: str, token_label: str, pin: str) -> _Login:
    with _logins_lock:
        login = _logins.get((module_path, token_label))
        if login is None:
            try:
                token = pkcs11.lib(module_path).get_token(token_label=token_label)
                login = _Login(token.open(user_pin=pin, rw=True), pin)
            except (PKCS11Error, RuntimeError, OSError) as exc:
                # Never include the PIN; the exception type says enough (PinIncorrect, …).
                raise KeyStoreUnavailable(
                    "cannot open the PKCS#11 token",
                    token=token_label,
                    module=module_path,
                    reason=type(exc).__name__,
                ) from None
            _logins[(module_path, token_label)] = login
        elif not login.accepts(pin):
            raise KeyStoreUnavailable(
                "cannot open the PKCS#11 token",
                token=token_label,
                module=module_path,
                reason="PinIncorrect",
            )
        login.users += 1
        return login


def _logout(module_path: str, token_label: str, login: _Login) -> None:
    with _logins_lock:
        login.users -= 1
        if login.users == 0:
            del _logins[(module_path, token_label)]
            with login.lock:
                login.session.close()


class Pkcs11KeyStore:
    """A `KeyStore` over one PKCS#11 token, logged in as the user with `pin`."""

    kind = "pkcs11"

    def __init__(self, module_path: str, token_label: str, pin: str) -> None:
        self._module = module_path
        self._token_label = token_label
        self._handles: dict[str, Any] = {}
        self._login: _Login | None = _login(module_path, token_label, pin)
        self._session = self._login.session
        self._lock = self._login.lock

    def create_key(self) -> str:
        """Generate a secp256k1 pair inside the token and label both halves with the address."""
        with self._lock:
            params = self._session.create_domain_parameters(
                KeyType.EC,
                {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256k1")},
                local=True,
            )
            public, private = params.generate_keypair(
                store=True,
                label="pending",
                public_template=_PUBLIC_KEY_TEMPLATE,
                private_template=PRIVATE_KEY_TEMPLATE,
            )
            address = address_from_public_key(public_key_from_ec_point(public[Attribute.EC_POINT]))
            key_id = bytes.fromhex(address[2:])
            for half in (public, private):
                half[Attribute.LABEL] = address
                half[Attribute.ID] = key_id
            self._handles[address] = private
            return address

    def addresses(self) -> list[str]:
        """Every address with a private key in the token, sorted."""
        with self._lock:
            found = self._session.get_objects(
                {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.EC}
            )
            labels = (str(obj[Attribute.LABEL]) for obj in found)
            return sorted(checksum_address(label) for label in labels if label.startswith("0x"))

    def private_key_handle(self, address: str) -> Any:
        """The token object of the private key (a handle: its value cannot be read)."""
        address = checksum_address(address)
        with self._lock:
            handle = self._handles.get(address)
            if handle is None:
                handle = self._find(ObjectClass.PRIVATE_KEY, address)
                self._handles[address] = handle
            return handle

    def _find(self, object_class: ObjectClass, address: str) -> Any:
        matches = list(
            self._session.get_objects({Attribute.CLASS: object_class, Attribute.LABEL: address})
        )
        if not matches:
            raise UnknownKey("no key for this address", address=address, store=self.kind)
        return matches[0]

    def public_key(self, address: str) -> bytes:
        """The 65-byte uncompressed public key, read from the token's public-key object."""
        address = checksum_address(address)
        with self._lock:
            public = self._find(ObjectClass.PUBLIC_KEY, address)
            return public_key_from_ec_point(public[Attribute.EC_POINT])

    def sign_digest(self, address: str, digest: bytes) -> bytes:
        """CKM_ECDSA over the digest inside the token: raw r || s (64 bytes)."""
        handle = self.private_key_handle(address)
        with self._lock:
            return bytes(handle.sign(digest, mechanism=Mechanism.ECDSA))

    def close(self) -> None:
        """Log out and close the session."""
        login, self._login = self._login, None
        if login is not None:
            self._handles.clear()
            _logout(self._module, self._token_label, login)
