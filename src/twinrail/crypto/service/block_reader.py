"""Blocks and Transfer logs over the ChainClient port (raw JSON-RPC); no trust in `removed`.

Every log is checked against the block it claims to be in (by hash) and every block against its
predecessor in the range (by parent hash): if the node's chain moved between our calls, the read
fails with `ChainReorganised` and the watcher retries, instead of mixing two forks. A block whose
bloom says it may hold a Transfer but for which the range query returned none (a load-balanced
endpoint whose log index lags its blocks) is asked again by hash (EIP-234), which either answers
for exactly that block or fails: a lagging index cannot make the watcher skip a deposit.
"""

from __future__ import annotations

import functools
from typing import Any

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.blooms import bloom_may_contain
from twinrail.crypto.domain.deposits import NATIVE_LOG_INDEX, BlockHeader, ObservedBlock
from twinrail.crypto.domain.deposits import ObservedPayment as Payment
from twinrail.crypto.domain.erc20 import TRANSFER_TOPIC
from twinrail.crypto.domain.errors import ChainReorganised, NodeError
from twinrail.crypto.service.ports import ChainClient

__all__ = ["JsonRpcBlockReader"]

_TRANSFER_TOPIC_HEX = "0x" + TRANSFER_TOPIC.hex()


@functools.lru_cache(maxsize=65_536)
def _checksum(address: str) -> str:
    # EIP-55 costs a keccak per call; the same few addresses recur in every block
    return checksum_address(address.lower())


def _address_topic(topic: str) -> str:
    return _checksum("0x" + topic[-40:])


def _num(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


def _header(raw: dict[str, Any]) -> BlockHeader:
    return BlockHeader(
        number=_num(raw["number"]), hash=raw["hash"].lower(), parent_hash=raw["parentHash"].lower()
    )


class JsonRpcBlockReader:
    """Reads headers, blocks with their payments, and the node's finality tags."""

    def __init__(self, chain: ChainClient) -> None:
        self._chain = chain

    def head(self) -> int:
        """The latest block number."""
        return self._chain.block_number()

    def header(self, number: int) -> BlockHeader | None:
        """The header of block `number` on the node's current chain (None past the head)."""
        raw = self._chain.request("eth_getBlockByNumber", [hex(number), False])
        if raw is None:
            return None
        header = _header(raw)
        if header.number != number:
            raise NodeError(
                "node answered another block than the one asked for",
                asked=number,
                answered=header.number,
            )
        return header

    def tagged_height(self, tag: str) -> int | None:
        """The number of the `finalized`/`safe` block, or None where the node does not know it."""
        try:
            raw = self._chain.request("eth_getBlockByNumber", [tag, False])
        except NodeError:
            return None
        return None if raw is None else _num(raw["number"])

    def read_range(self, start: int, end: int) -> list[ObservedBlock]:
        """Blocks `start..end` (inclusive) with native transfers and ERC-20 Transfer logs."""
        headers: list[BlockHeader] = []
        maybe: list[BlockHeader] = []
        native: dict[int, list[Payment]] = {}
        for number in range(start, end + 1):
            raw = self._chain.request("eth_getBlockByNumber", [hex(number), True])
            if raw is None:
                raise ChainReorganised("block vanished while reading", block=number)
            header = _header(raw)
            if header.number != number:  # a broken or lying endpoint: never record it
                raise NodeError(
                    "node answered another block than the one asked for",
                    asked=number,
                    answered=header.number,
                )
            if headers and header.parent_hash != headers[-1].hash:
                raise ChainReorganised("blocks of two forks in one read", block=number)
            headers.append(header)
            native[number] = [p for p in map(_native_payment, raw["transactions"]) if p]
            if bloom_may_contain(bytes.fromhex(raw["logsBloom"][2:]), TRANSFER_TOPIC):
                maybe.append(header)
        tokens, answered = self._transfer_logs(
            {"fromBlock": hex(start), "toBlock": hex(end)}, {h.number: h.hash for h in headers}
        )
        for header in maybe:
            if header.number not in answered:
                again, _ = self._transfer_logs(
                    {"blockHash": header.hash}, {header.number: header.hash}
                )
                tokens.update(again)
        return [
            ObservedBlock(h, tuple(native[h.number]) + tuple(tokens.get(h.number, ())))
            for h in headers
        ]

    def _transfer_logs(
        self, where: dict[str, str], hashes: dict[int, str]
    ) -> tuple[dict[int, list[Payment]], set[int]]:
        """ERC-20 Transfers by block number, and every block any Transfer-topic log came from."""
        raw_logs = self._chain.request("eth_getLogs", [{**where, "topics": [_TRANSFER_TOPIC_HEX]}])
        found: dict[int, list[Payment]] = {}
        answered: set[int] = set()
        for raw in raw_logs:
            number = _num(raw["blockNumber"])
            if hashes.get(number) != raw["blockHash"].lower():
                raise ChainReorganised("a log is from another fork than its block", block=number)
            answered.add(number)
            topics, data = raw["topics"], raw["data"]
            if len(topics) != 3 or topics[0].lower() != _TRANSFER_TOPIC_HEX or len(data) != 66:
                continue  # not an ERC-20 Transfer (e.g. ERC-721's: the token id is a 4th topic)
            sender, receiver = _address_topic(topics[1]), _address_topic(topics[2])
            amount = int(data, 16)
            found.setdefault(number, []).append(
                Payment(
                    tx_hash=raw["transactionHash"].lower(),
                    log_index=_num(raw["logIndex"]),
                    sender=sender,
                    receiver=receiver,
                    amount=amount,
                    token=_checksum(raw["address"]),
                )
            )
        return found, answered


def _native_payment(tx: dict[str, Any]) -> Payment | None:
    value = _num(tx.get("value", "0x0"))
    if value == 0 or not tx.get("to"):
        return None
    return Payment(
        tx_hash=tx["hash"].lower(),
        log_index=NATIVE_LOG_INDEX,
        sender=_checksum(tx["from"]),
        receiver=_checksum(tx["to"]),
        amount=value,
        token=None,
    )
