"""The USDC-like test token: deploy it, mint it, move it, read balances."""

from __future__ import annotations

from dataclasses import dataclass

from twinrail.crypto.domain import erc20
from twinrail.crypto.domain.errors import NodeError
from twinrail.crypto.domain.transactions import Receipt
from twinrail.crypto.service.ports import ChainClient
from twinrail.crypto.service.transfers import TransactionSender

__all__ = ["DeployedToken", "StableTokenService"]


@dataclass(frozen=True, slots=True)
class DeployedToken:
    """Where the token landed and who owns it."""

    chain_id: int
    address: str
    owner: str
    symbol: str
    decimals: int
    tx_hash: str


class StableTokenService:
    """Operations on the project's StableToken contract through the sender's key store."""

    def __init__(self, chain: ChainClient, sender: TransactionSender, *, chain_id: int) -> None:
        self._chain = chain
        self._sender = sender
        self._chain_id = chain_id

    def deploy(
        self, bytecode: bytes, owner: str, *, name: str = "Twin USD", symbol: str = "USDC"
    ) -> DeployedToken:
        """Deploy from `owner`, who becomes the only minter."""
        data = erc20.encode_constructor(bytecode, name, symbol)
        receipt = self._sender.send(owner, None, data=data)
        if receipt.status != 1 or receipt.contract_address is None:
            raise NodeError("token deployment reverted", tx_hash=receipt.tx_hash)
        return DeployedToken(
            chain_id=self._chain_id,
            address=receipt.contract_address,
            owner=owner,
            symbol=symbol,
            decimals=6,
            tx_hash=receipt.tx_hash,
        )

    def mint(self, token: str, owner: str, receiver: str, amount: int) -> Receipt:
        """Mint `amount` minor units to `receiver` (signed by the owner)."""
        return self._checked(
            self._sender.send(owner, token, data=erc20.encode_mint(receiver, amount))
        )

    def transfer(self, token: str, sender: str, receiver: str, amount: int) -> Receipt:
        """Transfer `amount` minor units from `sender` (signed by its key)."""
        return self._checked(
            self._sender.send(sender, token, data=erc20.encode_transfer(receiver, amount))
        )

    def balance_of(self, token: str, owner: str) -> int:
        """Token balance in minor units."""
        return erc20.decode_uint(self._chain.call(token, erc20.encode_balance_of(owner)))

    @staticmethod
    def _checked(receipt: Receipt) -> Receipt:
        if receipt.status != 1:
            raise NodeError("token transaction reverted", tx_hash=receipt.tx_hash)
        return receipt
