"""ERC-20 calls and events as bytes: pure ABI encoding, no I/O."""

from __future__ import annotations

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.transactions import Log

__all__ = [
    "TRANSFER_TOPIC",
    "encode_constructor",
    "encode_transfer",
    "encode_mint",
    "encode_balance_of",
    "decode_uint",
    "decode_transfer_log",
]

TRANSFER_TOPIC = keccak(text="Transfer(address,address,uint256)")


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


def encode_constructor(bytecode: bytes, name: str, symbol: str) -> bytes:
    """Creation code followed by the ABI-encoded (string name, string symbol) arguments."""
    return bytecode + encode(["string", "string"], [name, symbol])


def encode_transfer(receiver: str, amount: int) -> bytes:
    """Calldata for `transfer(address,uint256)`."""
    return _selector("transfer(address,uint256)") + encode(
        ["address", "uint256"], [checksum_address(receiver), amount]
    )


def encode_mint(receiver: str, amount: int) -> bytes:
    """Calldata for `mint(address,uint256)` (owner only)."""
    return _selector("mint(address,uint256)") + encode(
        ["address", "uint256"], [checksum_address(receiver), amount]
    )


def encode_balance_of(owner: str) -> bytes:
    """Calldata for `balanceOf(address)`."""
    return _selector("balanceOf(address)") + encode(["address"], [checksum_address(owner)])


def decode_uint(data: bytes) -> int:
    """A single uint256 return value."""
    return int(decode(["uint256"], data)[0])


def decode_transfer_log(log: Log) -> tuple[str, str, int] | None:
    """(sender, receiver, value) of an ERC-20 Transfer log, or None for any other log."""
    if len(log.topics) != 3 or log.topics[0] != TRANSFER_TOPIC:
        return None
    sender = checksum_address("0x" + log.topics[1][-20:].hex())
    receiver = checksum_address("0x" + log.topics[2][-20:].hex())
    return sender, receiver, decode_uint(log.data)
