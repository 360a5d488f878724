"""The crypto rail: chains and tokens, custody (PKCS#11 HSM or software keys), EVM transactions."""

from twinrail.crypto.domain import (
    Chain,
    ChainRegistry,
    Eip1559Transaction,
    FinalitySource,
    Receipt,
    Signature,
    SignedTransaction,
    Token,
)
from twinrail.crypto.domain.errors import CryptoError

__all__ = [
    "Chain",
    "ChainRegistry",
    "CryptoError",
    "Eip1559Transaction",
    "FinalitySource",
    "Receipt",
    "Signature",
    "SignedTransaction",
    "Token",
]
