"""Application services of the crypto context: custody addresses, nonces, fees, signing, sending.

Names load on first use (PEP 562): a worker that only needs the nonce manager should not pay
for importing eth-account and web3.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "AddressService",
    "FeeEstimator",
    "NonceManager",
    "OutgoingTransactions",
    "ChainClient",
    "KeyStore",
    "TransactionSigner",
    "recover_address",
    "DeployedToken",
    "StableTokenService",
    "TransactionSender",
    "WithdrawalProcessor",
    "WithdrawalService",
]

_HOME = {
    "AddressService": "addresses",
    "FeeEstimator": "fees",
    "NonceManager": "nonces",
    "OutgoingTransactions": "outgoing",
    "ChainClient": "ports",
    "KeyStore": "ports",
    "TransactionSigner": "signer",
    "recover_address": "signer",
    "DeployedToken": "token",
    "StableTokenService": "token",
    "TransactionSender": "transfers",
    "WithdrawalProcessor": "withdrawal_processor",
    "WithdrawalService": "withdrawals",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
