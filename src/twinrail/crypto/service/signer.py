"""One signing path for every key store: digest → raw r||s → low-s → recovered v → encoding."""

from __future__ import annotations

from eth_account.typed_transactions.typed_transaction import TypedTransaction
from eth_keys.datatypes import Signature as EcdsaSignature
from eth_keys.exceptions import BadSignature
from eth_utils.crypto import keccak
from hexbytes import HexBytes

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.errors import InvalidSignature
from twinrail.crypto.domain.signatures import Signature, normalise_low_s, split_raw_signature
from twinrail.crypto.domain.transactions import Eip1559Transaction, SignedTransaction
from twinrail.crypto.service.ports import KeyStore

__all__ = ["TransactionSigner", "recover_address", "decode_transaction"]


def recover_address(digest: bytes, signature: Signature) -> str:
    """The address whose key made `signature` over `digest`."""
    sig = EcdsaSignature(vrs=(signature.v, signature.r, signature.s))
    return str(sig.recover_public_key_from_msg_hash(digest).to_checksum_address())


def decode_transaction(raw: bytes, sender: str) -> Eip1559Transaction:
    """The fields of a signed type-2 transaction (to rebuild it, e.g. for a replacement)."""
    fields = TypedTransaction.from_bytes(HexBytes(raw)).as_dict()
    to = fields.get("to")
    to_hex = (to.hex() if isinstance(to, bytes | bytearray) else str(to or "")).removeprefix("0x")
    data = fields.get("data", b"")
    return Eip1559Transaction(
        chain_id=int(fields["chainId"]),
        sender=sender,
        nonce=int(fields["nonce"]),
        to=("0x" + to_hex) if to_hex else None,
        value=int(fields["value"]),
        data=bytes(data) if isinstance(data, bytes | bytearray) else bytes.fromhex(data[2:]),
        gas=int(fields["gas"]),
        max_fee_per_gas=int(fields["maxFeePerGas"]),
        max_priority_fee_per_gas=int(fields["maxPriorityFeePerGas"]),
    )


def _unsigned_fields(tx: Eip1559Transaction) -> dict[str, object]:
    return {
        "type": 2,
        "chainId": tx.chain_id,
        "nonce": tx.nonce,
        "to": tx.to or b"",
        "value": tx.value,
        "data": tx.data,
        "gas": tx.gas,
        "maxFeePerGas": tx.max_fee_per_gas,
        "maxPriorityFeePerGas": tx.max_priority_fee_per_gas,
        "accessList": [],
    }


class TransactionSigner:
    """Signs digests and EIP-1559 transactions with any `KeyStore`, the same way for all."""

    def __init__(self, key_store: KeyStore) -> None:
        self._keys = key_store

    def sign_digest(self, address: str, digest: bytes) -> Signature:
        """A canonical (low-s) signature over a 32-byte digest that recovers to `address`."""
        if len(digest) != 32:
            raise ValueError("digest must be 32 bytes")
        address = checksum_address(address)
        r, s, _ = normalise_low_s(*split_raw_signature(self._keys.sign_digest(address, digest)))
        # Raw ECDSA carries no recovery id: try both parities against the known address.
        for v in (0, 1):
            candidate = Signature(r=r, s=s, v=v)
            try:
                if recover_address(digest, candidate) == address:
                    return candidate
            except BadSignature:
                continue
        raise InvalidSignature("signature does not recover to the key's address", address=address)

    def sign_message(self, address: str, message: bytes) -> Signature:
        """Sign keccak256(message) (no EIP-191 prefix: callers choose their framing)."""
        return self.sign_digest(address, keccak(message))

    def sign_transaction(self, tx: Eip1559Transaction) -> SignedTransaction:
        """Sign a type-2 transaction with the sender's key; returns broadcastable bytes."""
        fields = _unsigned_fields(tx)
        digest = TypedTransaction.from_dict(fields).hash()
        sig = self.sign_digest(tx.sender, digest)
        signed = TypedTransaction.from_dict({**fields, "v": sig.v, "r": sig.r, "s": sig.s})
        raw = signed.encode()
        return SignedTransaction(transaction=tx, raw=raw, tx_hash="0x" + keccak(raw).hex())
