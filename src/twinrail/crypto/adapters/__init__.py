"""Edges of the crypto context: PKCS#11 and software key stores, SoftHSM2, web3 RPC, Vyper.

Import the concrete module you need (each pulls in its own third-party library).
"""

__all__: list[str] = []
