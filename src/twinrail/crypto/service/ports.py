"""The ports the crypto services depend on: a key store and a chain client."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from twinrail.crypto.domain.fees import FeeHistory
from twinrail.crypto.domain.transactions import FeeQuote, Receipt

__all__ = ["KeyStore", "ChainClient", "FeeQuote"]


@runtime_checkable
class KeyStore(Protocol):
    """Holds secp256k1 keys and signs 32-byte digests; private keys never leave it by this port."""

    kind: str

    def create_key(self) -> str:
        """Generate a new key inside the store and return its checksummed address."""
        ...

    def addresses(self) -> list[str]:
        """Every address the store holds a key for, sorted."""
        ...

    def public_key(self, address: str) -> bytes:
        """The 65-byte uncompressed public key of `address` (raises UnknownKey)."""
        ...

    def sign_digest(self, address: str, digest: bytes) -> bytes:
        """Raw ECDSA over `digest` as 64 bytes r || s; s may be high, no recovery id."""
        ...

    def close(self) -> None:
        """Release sessions and handles."""
        ...


class ChainClient(Protocol):
    """What the crypto services need from a JSON-RPC node; every call has a timeout."""

    def chain_id(self) -> int:
        """The node's chain id."""
        ...

    def block_number(self) -> int:
        """The latest block number."""
        ...

    def balance(self, address: str) -> int:
        """Native balance in wei at the latest block."""
        ...

    def pending_nonce(self, address: str) -> int:
        """The next nonce counting the node's pending pool."""
        ...

    def mined_nonce(self, address: str) -> int:
        """How many transactions of `address` are in blocks (its next nonce, ignoring the pool)."""
        ...

    def receipt(self, tx_hash: str) -> Receipt | None:
        """The receipt if the transaction is mined, else None (does not wait)."""
        ...

    def fee_history(self, block_count: int, percentile: float) -> FeeHistory:
        """eth_feeHistory over the latest `block_count` blocks at one reward percentile."""
        ...

    def fee_quote(self) -> FeeQuote:
        """Fee caps good for the next block (a first estimate; the fee estimator refines it)."""
        ...

    def estimate_gas(self, sender: str, to: str | None, value: int, data: bytes) -> int:
        """The node's gas estimate for the call."""
        ...

    def call(self, to: str, data: bytes) -> bytes:
        """eth_call at the latest block."""
        ...

    def send_raw_transaction(self, raw: bytes) -> str:
        """Broadcast signed bytes; returns the transaction hash (0x hex)."""
        ...

    def wait_for_receipt(self, tx_hash: str, timeout_s: float) -> Receipt:
        """Block until mined or raise TransactionNotMined."""
        ...

    def request(self, method: str, params: list[Any]) -> Any:
        """A raw JSON-RPC call (for node-specific methods such as anvil_*)."""
        ...
