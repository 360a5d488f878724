"""Signatures as Ethereum needs them: low-s, a recovery id, addresses from public keys."""

from __future__ import annotations

import pytest
from eth_keys.datatypes import PrivateKey
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from twinrail.crypto.domain.addresses import address_from_public_key, checksum_address
from twinrail.crypto.domain.errors import InvalidAddress
from twinrail.crypto.domain.signatures import SECP256K1_N, Signature, normalise_low_s
from twinrail.crypto.service.signer import TransactionSigner, recover_address

# anvil's first development account: a published test vector, never a real key.
ANVIL_KEY_0 = bytes.fromhex("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80")
ANVIL_ADDRESS_0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


class HighSKeyStore:
    """A key store whose raw signatures always have a high s, as some HSMs return them."""

    kind = "high-s"

    def __init__(self, secret: bytes) -> None:
        self._key = PrivateKey(secret)
        self.address = self._key.public_key.to_checksum_address()

    def create_key(self) -> str:
        return self.address

    def addresses(self) -> list[str]:
        return [self.address]

    def public_key(self, address: str) -> bytes:  # noqa: ARG002
        return b"\x04" + self._key.public_key.to_bytes()

    def sign_digest(self, address: str, digest: bytes) -> bytes:  # noqa: ARG002
        sig = self._key.sign_msg_hash(digest)
        s = sig.s if sig.s > SECP256K1_N // 2 else SECP256K1_N - sig.s
        return sig.r.to_bytes(32, "big") + s.to_bytes(32, "big")

    def close(self) -> None:
        pass


def test_the_address_of_a_known_key_is_derived_from_its_public_key() -> None:
    public = PrivateKey(ANVIL_KEY_0).public_key.to_bytes()
    assert address_from_public_key(public) == ANVIL_ADDRESS_0
    assert address_from_public_key(b"\x04" + public) == ANVIL_ADDRESS_0


def test_a_high_s_is_mirrored_into_the_lower_half() -> None:
    r, s, flipped = normalise_low_s(5, SECP256K1_N - 7)
    assert (r, s, flipped) == (5, 7, True)
    assert normalise_low_s(5, 7) == (5, 7, False)


def test_a_signature_with_a_high_s_cannot_be_built() -> None:
    with pytest.raises(ValueError):
        Signature(r=1, s=SECP256K1_N - 1, v=0)


@settings(max_examples=25, deadline=None)
@given(message=st.binary(min_size=0, max_size=64))
def test_high_s_signatures_are_normalised_and_still_recover_the_signer(message: bytes) -> None:
    store = HighSKeyStore(ANVIL_KEY_0)
    digest = keccak(message)
    sig = TransactionSigner(store).sign_digest(store.address, digest)
    assert sig.s <= SECP256K1_N // 2
    assert recover_address(digest, sig) == ANVIL_ADDRESS_0


def test_addresses_are_checksummed_and_a_wrong_checksum_is_refused() -> None:
    assert checksum_address(ANVIL_ADDRESS_0.lower()) == ANVIL_ADDRESS_0
    wrong = ANVIL_ADDRESS_0.replace("f39F", "f39f")
    with pytest.raises(InvalidAddress, match="checksum"):
        checksum_address(wrong)
    for bad in ("0x1234", "f39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x" + "g" * 40):
        with pytest.raises(InvalidAddress):
            checksum_address(bad)
