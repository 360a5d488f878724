"""The `ChainClient` port over web3.py's HTTP provider; web3 types stop at this module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import requests
from web3 import Web3
from web3.exceptions import TimeExhausted, Web3Exception, Web3RPCError

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.errors import NodeError, NodeUnavailable, TransactionNotMined
from twinrail.crypto.domain.fees import FeeHistory
from twinrail.crypto.domain.transactions import FeeQuote, Log, Receipt

__all__ = ["Web3ChainClient"]

T = TypeVar("T")


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return text if text.startswith("0x") else "0x" + text


class Web3ChainClient:
    """JSON-RPC over HTTP with a per-request timeout; errors become crypto faults."""

    def __init__(self, rpc_url: str, *, timeout_s: float = 10.0) -> None:
        self.rpc_url = rpc_url
        self._w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": timeout_s}))

    @contextmanager
    def _faults(self, method: str) -> Iterator[None]:
        try:
            yield
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise NodeUnavailable(
                "node did not answer", rpc_url=self.rpc_url, method=method, reason=str(exc)[:200]
            ) from None
        except TimeExhausted:
            raise TransactionNotMined("no receipt in time", rpc_url=self.rpc_url) from None
        except Web3RPCError as exc:
            raise NodeError(
                "node rejected the call", rpc_url=self.rpc_url, method=method, reason=exc.message
            ) from None
        except Web3Exception as exc:
            raise NodeError(
                "node call failed", rpc_url=self.rpc_url, method=method, reason=str(exc)[:200]
            ) from None

    def _do(self, method: str, fn: Callable[[], T]) -> T:
        with self._faults(method):
            return fn()

    def chain_id(self) -> int:
        return int(self._do("eth_chainId", lambda: self._w3.eth.chain_id))

    def block_number(self) -> int:
        return int(self._do("eth_blockNumber", lambda: self._w3.eth.block_number))

    def balance(self, address: str) -> int:
        addr = checksum_address(address)
        return int(self._do("eth_getBalance", lambda: self._w3.eth.get_balance(addr)))  # type: ignore[arg-type]

    def pending_nonce(self, address: str) -> int:
        addr = checksum_address(address)
        return int(
            self._do(
                "eth_getTransactionCount",
                lambda: self._w3.eth.get_transaction_count(addr, "pending"),  # type: ignore[arg-type]
            )
        )

    def mined_nonce(self, address: str) -> int:
        addr = checksum_address(address)
        return int(
            self._do(
                "eth_getTransactionCount",
                lambda: self._w3.eth.get_transaction_count(addr, "latest"),  # type: ignore[arg-type]
            )
        )

    def receipt(self, tx_hash: str) -> Receipt | None:
        raw = self.request("eth_getTransactionReceipt", [tx_hash])
        if raw is None:
            return None
        return _receipt(_from_json_receipt(raw))

    def fee_history(self, block_count: int, percentile: float) -> FeeHistory:
        raw = self.request("eth_feeHistory", [hex(block_count), "latest", [percentile]])
        base_fees = [int(b, 16) for b in raw["baseFeePerGas"]]
        rewards = tuple(int(r[0], 16) if r else 0 for r in raw.get("reward") or [])
        return FeeHistory(next_base_fee=base_fees[-1], rewards=rewards)

    def fee_quote(self) -> FeeQuote:
        """Twice the latest base fee plus the node's suggested tip (a first estimate)."""
        block = self._do("eth_getBlockByNumber", lambda: self._w3.eth.get_block("latest"))
        tip = int(self._do("eth_maxPriorityFeePerGas", lambda: self._w3.eth.max_priority_fee))
        base = int(block.get("baseFeePerGas", 0))
        return FeeQuote(max_fee_per_gas=2 * base + tip, max_priority_fee_per_gas=tip)

    def estimate_gas(self, sender: str, to: str | None, value: int, data: bytes) -> int:
        tx: dict[str, Any] = {"from": checksum_address(sender), "value": value, "data": data}
        if to is not None:
            tx["to"] = checksum_address(to)
        return int(self._do("eth_estimateGas", lambda: self._w3.eth.estimate_gas(tx)))  # type: ignore[arg-type]

    def call(self, to: str, data: bytes) -> bytes:
        tx = {"to": checksum_address(to), "data": data}
        return bytes(self._do("eth_call", lambda: self._w3.eth.call(tx)))  # type: ignore[arg-type]

    def send_raw_transaction(self, raw: bytes) -> str:
        return _hex(
            self._do("eth_sendRawTransaction", lambda: self._w3.eth.send_raw_transaction(raw))
        )

    def wait_for_receipt(self, tx_hash: str, timeout_s: float) -> Receipt:
        rcpt = self._do(
            "eth_getTransactionReceipt",
            lambda: self._w3.eth.wait_for_transaction_receipt(
                tx_hash,  # type: ignore[arg-type]
                timeout=timeout_s,
                poll_latency=0.05,
            ),
        )
        return _receipt(rcpt)

    def request(self, method: str, params: list[Any]) -> Any:
        def call() -> Any:
            response = self._w3.provider.make_request(method, params)  # type: ignore[arg-type]
            if "error" in response:
                err = response["error"]
                message = err.get("message", str(err)) if isinstance(err, dict) else str(err)
                raise NodeError(
                    "node rejected the call", rpc_url=self.rpc_url, method=method, reason=message
                )
            return response.get("result")

        return self._do(method, call)


def _from_json_receipt(raw: dict[str, Any]) -> dict[str, Any]:
    """A raw JSON-RPC receipt in the shape web3 formats them (ints and bytes)."""

    def num(value: Any) -> int:
        return int(value, 16) if isinstance(value, str) else int(value)

    return {
        "transactionHash": raw["transactionHash"],
        "status": num(raw["status"]),
        "blockNumber": num(raw["blockNumber"]),
        "blockHash": raw["blockHash"],
        "gasUsed": num(raw["gasUsed"]),
        "effectiveGasPrice": num(raw["effectiveGasPrice"]),
        "contractAddress": raw.get("contractAddress"),
        "logs": [
            {
                "address": log["address"],
                "topics": [bytes.fromhex(t[2:]) for t in log["topics"]],
                "data": bytes.fromhex(log["data"][2:]),
                "logIndex": num(log["logIndex"]),
            }
            for log in raw["logs"]
        ],
    }


def _receipt(rcpt: Any) -> Receipt:
    logs = tuple(
        Log(
            address=checksum_address(log["address"]),
            topics=tuple(bytes(t) for t in log["topics"]),
            data=bytes(log["data"]),
            log_index=int(log["logIndex"]),
        )
        for log in rcpt["logs"]
    )
    contract = rcpt.get("contractAddress")
    return Receipt(
        tx_hash=_hex(rcpt["transactionHash"]),
        status=int(rcpt["status"]),
        block_number=int(rcpt["blockNumber"]),
        block_hash=_hex(rcpt["blockHash"]),
        gas_used=int(rcpt["gasUsed"]),
        effective_gas_price=int(rcpt["effectiveGasPrice"]),
        contract_address=checksum_address(contract) if contract else None,
        logs=logs,
    )
