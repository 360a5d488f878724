"""Custody: HSM keys stay in the token; both key stores sign the same way and recover right."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_keys.datatypes import PublicKey
from eth_utils.crypto import keccak
from pkcs11 import Attribute, KeyType, Mechanism
from pkcs11.exceptions import AttributeSensitive, PKCS11Error

from tests.crypto.conftest import FAST_SCRYPT_N, HSM_PIN, HSM_TOKEN, PASSPHRASE
from twinrail.crypto.adapters.softhsm import DEFAULT_MODULE, SoftHsm
from twinrail.crypto.adapters.software_keystore import SoftwareKeyStore
from twinrail.crypto.domain.addresses import address_from_public_key
from twinrail.crypto.domain.errors import KeyStoreUnavailable, UnknownKey
from twinrail.crypto.domain.signatures import SECP256K1_N, Signature
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.service.signer import TransactionSigner, recover_address

# -- both key stores: one contract ---------------------------------------------------------------


def test_a_new_key_is_listed_by_its_address(key_store: KeyStore) -> None:
    address = key_store.create_key()
    assert address in key_store.addresses()
    assert address_from_public_key(key_store.public_key(address)) == address


def test_a_signature_verifies_and_recovers_the_right_address(key_store: KeyStore) -> None:
    address = key_store.create_key()
    digest = keccak(b"pay 10 USDC to the merchant")
    sig = TransactionSigner(key_store).sign_digest(address, digest)
    assert sig.s <= SECP256K1_N // 2
    assert recover_address(digest, sig) == address
    public = PublicKey(key_store.public_key(address)[1:])
    assert public.verify_msg_hash(digest, _eth_keys_signature(sig))
    assert not public.verify_msg_hash(keccak(b"something else"), _eth_keys_signature(sig))


def test_signing_for_an_unknown_address_is_refused(key_store: KeyStore) -> None:
    with pytest.raises(UnknownKey):
        key_store.sign_digest("0x" + "11" * 20, b"\x00" * 32)


def _eth_keys_signature(sig: object) -> object:
    from eth_keys.datatypes import Signature as EcdsaSignature

    return EcdsaSignature(vrs=(sig.v, sig.r, sig.s))  # type: ignore[attr-defined]


# -- the HSM: the private key never leaves the token ---------------------------------------------


def test_the_hsm_key_is_sensitive_non_extractable_and_labelled_with_its_address(
    hsm_store: KeyStore,
) -> None:
    address = hsm_store.create_key()
    key = hsm_store.private_key_handle(address)  # type: ignore[attr-defined]
    assert key.key_type == KeyType.EC
    assert key[Attribute.SENSITIVE] is True
    assert key[Attribute.EXTRACTABLE] is False
    assert key[Attribute.ALWAYS_SENSITIVE] is True
    assert key[Attribute.NEVER_EXTRACTABLE] is True
    assert key[Attribute.LABEL] == address
    assert key[Attribute.ID] == bytes.fromhex(address[2:])


def test_the_hsm_private_key_value_cannot_be_read(hsm_store: KeyStore) -> None:
    key = hsm_store.private_key_handle(hsm_store.create_key())  # type: ignore[attr-defined]
    with pytest.raises(AttributeSensitive):
        key[Attribute.VALUE]


def test_the_hsm_private_key_cannot_be_wrapped_out_of_the_token(hsm_store: KeyStore) -> None:
    key = hsm_store.private_key_handle(hsm_store.create_key())  # type: ignore[attr-defined]
    session = hsm_store._session  # type: ignore[attr-defined]
    wrapping = session.generate_key(KeyType.AES, 256, store=False, capabilities=None)
    with pytest.raises(PKCS11Error):
        wrapping.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP_PAD)


def test_the_hsm_key_cannot_be_made_extractable_afterwards(hsm_store: KeyStore) -> None:
    key = hsm_store.private_key_handle(hsm_store.create_key())  # type: ignore[attr-defined]
    with pytest.raises(PKCS11Error):
        key[Attribute.EXTRACTABLE] = True
    with pytest.raises(PKCS11Error):
        key[Attribute.SENSITIVE] = False
    assert key[Attribute.EXTRACTABLE] is False


def test_hsm_keys_persist_in_the_token_across_sessions(hsm_store: KeyStore) -> None:
    from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore

    address = hsm_store.create_key()
    other = Pkcs11KeyStore(DEFAULT_MODULE, HSM_TOKEN, HSM_PIN)
    try:
        assert address in other.addresses()
        digest = keccak(b"second session")
        assert recover_address(digest, TransactionSigner(other).sign_digest(address, digest)) == (
            address
        )
    finally:
        other.close()


def test_a_wrong_pin_is_refused_without_showing_the_pin(softhsm: SoftHsm) -> None:
    from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore

    assert softhsm.config_path.exists()
    with pytest.raises(KeyStoreUnavailable) as error:
        Pkcs11KeyStore(DEFAULT_MODULE, HSM_TOKEN, "not-the-pin-9999")
    assert "not-the-pin-9999" not in str(error.value.to_dict())
    assert error.value.context["reason"] == "PinIncorrect"


def test_an_unknown_token_is_a_clear_error(softhsm: SoftHsm) -> None:  # noqa: ARG001
    from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore

    with pytest.raises(KeyStoreUnavailable, match="cannot open"):
        Pkcs11KeyStore(DEFAULT_MODULE, "no-such-token", HSM_PIN)


# -- the software key store: encrypted at rest ---------------------------------------------------


def test_software_keys_are_scrypt_encrypted_owner_only_files(tmp_path: Path) -> None:
    store = SoftwareKeyStore(tmp_path, PASSPHRASE, scrypt_n=FAST_SCRYPT_N)
    address = store.create_key()
    path = tmp_path / f"{address}.json"
    keyfile = json.loads(path.read_text())
    assert keyfile["crypto"]["kdf"] == "scrypt"
    assert keyfile["crypto"]["kdfparams"]["n"] == FAST_SCRYPT_N
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = store._key(address).to_bytes()  # type: ignore[attr-defined]
    assert secret.hex() not in path.read_text()


def test_software_keys_reopen_with_the_passphrase_and_not_without(tmp_path: Path) -> None:
    address = SoftwareKeyStore(tmp_path, PASSPHRASE, scrypt_n=FAST_SCRYPT_N).create_key()
    reopened = SoftwareKeyStore(tmp_path, PASSPHRASE)
    digest = keccak(b"after restart")
    sig = TransactionSigner(reopened).sign_digest(address, digest)
    assert recover_address(digest, sig) == address
    with pytest.raises(KeyStoreUnavailable, match="wrong passphrase"):
        SoftwareKeyStore(tmp_path, "wrong passphrase").sign_digest(address, digest)
    with pytest.raises(KeyStoreUnavailable):
        SoftwareKeyStore(tmp_path, "")


# -- another process: what the token itself enforces ---------------------------------------------

_CHILD = """
import json, sys
from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore
from twinrail.crypto.domain.errors import KeyStoreUnavailable
from twinrail.crypto.service.signer import TransactionSigner
module, token, address = sys.argv[1:4]
try:
    store = Pkcs11KeyStore(module, token, sys.stdin.readline().strip())
except KeyStoreUnavailable as exc:
    print(json.dumps({"error": exc.context["reason"]}))
    raise SystemExit(0)
sig = TransactionSigner(store).sign_digest(address, bytes(32))
print(json.dumps({"addresses": store.addresses(), "r": sig.r, "s": sig.s, "v": sig.v}))
store.close()
"""


def _in_another_process(softhsm: SoftHsm, pin: str, address: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, DEFAULT_MODULE, HSM_TOKEN, address],
        input=pin + "\n",
        env=softhsm.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_hsm_keys_persist_and_sign_in_another_process(
    softhsm: SoftHsm, hsm_store: KeyStore
) -> None:
    address = hsm_store.create_key()
    result = _in_another_process(softhsm, HSM_PIN, address)
    assert address in result["addresses"]  # type: ignore[operator]
    sig = Signature(r=result["r"], s=result["s"], v=result["v"])  # type: ignore[arg-type]
    assert recover_address(bytes(32), sig) == address


def test_the_token_refuses_a_wrong_pin(softhsm: SoftHsm, hsm_store: KeyStore) -> None:
    address = hsm_store.create_key()
    assert _in_another_process(softhsm, "not-the-pin-9999", address) == {"error": "PinIncorrect"}
