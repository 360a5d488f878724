"""Chains and the assets on them: the registry every other part of the crypto context looks up."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.errors import UnknownChain, UnknownToken

__all__ = ["FinalitySource", "NativeAsset", "Token", "Chain", "ChainRegistry"]


class FinalitySource(StrEnum):
    """How a block counts as final: a node block tag where supported, else a depth."""

    FINALIZED = "finalized"
    SAFE = "safe"
    DEPTH = "depth"


@dataclass(frozen=True, slots=True)
class NativeAsset:
    """The chain's gas asset (ETH with 18 decimals on every chain we run)."""

    symbol: str = "ETH"
    decimals: int = 18


@dataclass(frozen=True, slots=True)
class Token:
    """An ERC-20 contract listed on one chain; `address` is EIP-55 checksummed."""

    symbol: str
    address: str
    decimals: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", checksum_address(self.address))
        if not 0 <= self.decimals <= 36:
            raise ValueError(f"token decimals out of range: {self.decimals}")


@dataclass(frozen=True, slots=True)
class Chain:
    """One EVM chain: where to reach it and when its blocks count as final."""

    chain_id: int
    name: str
    rpc_url: str
    confirmations: int = 12
    finality: FinalitySource = FinalitySource.DEPTH
    native: NativeAsset = field(default_factory=NativeAsset)
    tokens: tuple[Token, ...] = ()
    rpc_timeout_s: float = 10.0

    def token(self, symbol_or_address: str) -> Token:
        """The listed token with that symbol (case-insensitive) or contract address."""
        wanted = symbol_or_address.lower()
        for token in self.tokens:
            if wanted in (token.symbol.lower(), token.address.lower()):
                return token
        raise UnknownToken(
            "token not listed on this chain", chain_id=self.chain_id, token=symbol_or_address
        )


class ChainRegistry:
    """The configured chains by id; lookups of anything else raise `UnknownChain`."""

    def __init__(self, chains: Iterable[Chain]) -> None:
        self._chains: dict[int, Chain] = {}
        for chain in chains:
            if chain.chain_id in self._chains:
                raise ValueError(f"chain {chain.chain_id} configured twice")
            self._chains[chain.chain_id] = chain

    def get(self, chain_id: int) -> Chain:
        """The chain with that id."""
        try:
            return self._chains[chain_id]
        except KeyError:
            raise UnknownChain("chain is not configured", chain_id=chain_id) from None

    def __iter__(self) -> Iterator[Chain]:
        return iter(self._chains.values())

    def __len__(self) -> int:
        return len(self._chains)
