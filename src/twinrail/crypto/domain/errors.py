"""The crypto context's error tree. Every leaf has a stable dotted `code` and structured `context`.

CryptoError
├── CryptoRejection              the request breaks a rule; nothing was sent or signed
│   ├── UnknownChain             no chain with that id is configured
│   ├── UnknownToken             the chain lists no token with that symbol or address
│   ├── InvalidAmount            not a positive amount, or more decimals than the asset has
│   ├── UnknownCharge            no payment request (charge) with that id
│   ├── InvalidAddress           not a 20-byte hex address, or a mixed-case one whose checksum fails
│   ├── UnknownKey               the key store holds no key for that address
│   ├── InvalidSignature         a signature that does not recover to the expected address
│   ├── NonceStateConflict       a nonce reservation cannot move that way (e.g. release if signed)
│   ├── FeeCapExceeded           the network fee would exceed a configured cap
│   └── ReplacementUnderpriced   a same-nonce replacement does not raise both fee caps by 10 %
└── CryptoFault                  infrastructure; the outcome is unknown or retryable
    ├── KeyStoreUnavailable      the HSM or key files cannot be opened (wrong PIN, no token)
    ├── NodeUnavailable          (retryable) the JSON-RPC node did not answer in time
    ├── NodeError                the node answered with an error
    ├── TransactionNotMined      (retryable) no receipt within the wait window
    ├── ChainReorganised         (retryable) blocks changed while the watcher read them
    └── ReorgTooDeep             a reorg reaches below the block hashes the watcher keeps
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "CryptoError",
    "CryptoRejection",
    "UnknownChain",
    "UnknownToken",
    "InvalidAmount",
    "UnknownCharge",
    "InvalidAddress",
    "UnknownKey",
    "InvalidSignature",
    "NonceStateConflict",
    "FeeCapExceeded",
    "ReplacementUnderpriced",
    "CryptoFault",
    "KeyStoreUnavailable",
    "NodeUnavailable",
    "NodeError",
    "TransactionNotMined",
    "ChainReorganised",
    "ReorgTooDeep",
]


class CryptoError(TwinrailError):
    """Root of every error the crypto context raises."""

    code = "crypto.error"


class CryptoRejection(CryptoError):
    """The request breaks a rule of the crypto context; nothing was signed or sent."""

    code = "crypto.rejected"


class UnknownChain(CryptoRejection):
    """Raised when a chain id is not in the chain registry."""

    code = "crypto.unknown_chain"


class UnknownToken(CryptoRejection):
    """Raised when a chain lists no token with the given symbol or contract address."""

    code = "crypto.unknown_token"


class InvalidAmount(CryptoRejection):
    """Raised for a zero, negative or malformed amount, or one finer than the asset's decimals."""

    code = "crypto.invalid_amount"


class UnknownCharge(CryptoRejection):
    """Raised when no charge (payment request) has the id asked for."""

    code = "crypto.unknown_charge"


class InvalidAddress(CryptoRejection):
    """Raised for a malformed address or a mixed-case address with a wrong EIP-55 checksum."""

    code = "crypto.invalid_address"


class UnknownKey(CryptoRejection):
    """Raised when the key store holds no key for the address asked for."""

    code = "crypto.unknown_key"


class InvalidSignature(CryptoRejection):
    """Raised when a signature does not recover to the signing address."""

    code = "crypto.invalid_signature"


class NonceStateConflict(CryptoRejection):
    """Raised when a nonce reservation cannot make the asked transition (it is already further)."""

    code = "crypto.nonce_state_conflict"


class FeeCapExceeded(CryptoRejection):
    """Raised before signing when the estimated fee is above the chain's configured caps."""

    code = "crypto.fee_cap_exceeded"


class ReplacementUnderpriced(CryptoRejection):
    """Raised when a replacement's fee caps are not both at least 10 % above the previous ones."""

    code = "crypto.replacement_underpriced"


class CryptoFault(CryptoError):
    """Infrastructure failed; the outcome may be unknown."""

    code = "crypto.fault"


class KeyStoreUnavailable(CryptoFault):
    """Raised when the key store cannot be opened: no token, wrong PIN, unreadable key files."""

    code = "crypto.key_store_unavailable"


class NodeUnavailable(CryptoFault):
    """Raised when the JSON-RPC node cannot be reached or does not answer within the timeout."""

    code = "crypto.node_unavailable"
    retryable = True


class NodeError(CryptoFault):
    """Raised when the node answers a call with an error (e.g. `nonce too low`)."""

    code = "crypto.node_error"


class TransactionNotMined(CryptoFault):
    """Raised when a sent transaction has no receipt within the wait window."""

    code = "crypto.transaction_not_mined"
    retryable = True


class ChainReorganised(CryptoFault):
    """Raised when the node's chain moved under a read (a log from another fork than its block)."""

    code = "crypto.chain_reorganised"
    retryable = True


class ReorgTooDeep(CryptoFault):
    """Raised when no common ancestor is found among the block hashes the watcher keeps."""

    code = "crypto.reorg_too_deep"
