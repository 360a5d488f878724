"""The `ChainClient` port over JSON-RPC on HTTP; web3 types stop at this module.

Every call goes through `request`, which has the per-request timeout and the retry rule:

- Idempotent reads (`READ_METHODS`: eth_blockNumber, eth_getBlockByNumber, eth_getLogs,
  eth_getTransactionReceipt, eth_call, eth_feeHistory, ...) are retried on transient faults —
  connection refused, timeouts, HTTP 429/5xx and JSON-RPC errors that say "try again" (internal
  error, limit exceeded, resource unavailable) — with exponential backoff and full jitter
  (`RetryPolicy`). A JSON-RPC error that is an answer (a revert, invalid params) is not retried.
- `eth_sendRawTransaction` is retried only with the same signed bytes, which is safe because a
  transaction is identified by its hash: if the first attempt reached the node, the retry is
  answered "already known", which counts as success and returns that hash.
- Anything else (eth_sendTransaction, anvil_* and evm_* control methods) is sent exactly once.

web3's own HTTP retry is switched off so that this is the only retry layer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from eth_utils.crypto import keccak
from web3 import Web3

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.errors import NodeError, NodeUnavailable, TransactionNotMined
from twinrail.crypto.domain.fees import FeeHistory
from twinrail.crypto.domain.transactions import FeeQuote, Log, Receipt

__all__ = ["Web3ChainClient", "RetryPolicy", "READ_METHODS"]

READ_METHODS = frozenset(
    {
        "eth_chainId",
        "net_version",
        "eth_blockNumber",
        "eth_getBalance",
        "eth_getTransactionCount",
        "eth_getBlockByNumber",
        "eth_getBlockByHash",
        "eth_getLogs",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
        "eth_call",
        "eth_estimateGas",
        "eth_feeHistory",
        "eth_maxPriorityFeePerGas",
        "eth_gasPrice",
        "eth_getCode",
    }
)
_SEND_RAW = "eth_sendRawTransaction"
_TRANSIENT_CODES = frozenset({-32603, -32005, -32002, 429})  # internal, limit, unavailable
_TRANSIENT_WORDS = ("timeout", "timed out", "rate limit", "too many requests", "try again")
_ALREADY_KNOWN = ("already known", "known transaction", "already imported", "alreadyknown")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry: `attempts` in all, exponential backoff, full jitter."""

    attempts: int = 4
    base_delay_s: float = 0.1
    max_delay_s: float = 2.0

    def delay(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Seconds to wait before retry number `retry` (0-based): uniform in [0, cap)."""
        return rand() * min(self.max_delay_s, self.base_delay_s * 2.0**retry)


class _Transient(Exception):
    """A fault worth another attempt; carries the error to raise when attempts run out."""

    def __init__(self, error: NodeUnavailable | NodeError) -> None:
        super().__init__(error.message)
        self.error = error


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return text if text.startswith("0x") else "0x" + text


def _num(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class Web3ChainClient:
    """JSON-RPC over HTTP with a per-request timeout and retries where safe."""

    def __init__(
        self,
        rpc_url: str,
        *,
        timeout_s: float = 10.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rpc_url = rpc_url
        self.retry = retry or RetryPolicy()
        self.retries = 0  # retries made since this client was created (for metrics and tests)
        self._sleep = sleep
        self._provider = Web3.HTTPProvider(
            rpc_url, request_kwargs={"timeout": timeout_s}, exception_retry_configuration=None
        )

    # the one way to the node

    def request(self, method: str, params: list[Any]) -> Any:
        """A JSON-RPC call; reads and same-bytes broadcasts are retried on transient faults."""
        retried = method in READ_METHODS or method == _SEND_RAW
        attempts = self.retry.attempts if retried else 1
        for attempt in range(attempts):
            try:
                return self._once(method, params)
            except _Transient as fault:
                if attempt + 1 >= attempts:
                    raise fault.error from None
                self.retries += 1
                self._sleep(self.retry.delay(attempt))
        raise AssertionError("unreachable")

    def _once(self, method: str, params: list[Any]) -> Any:
        try:
            response = self._provider.make_request(method, params)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise _Transient(
                NodeUnavailable(
                    "node did not answer", rpc_url=self.rpc_url, method=method, reason=_short(exc)
                )
            ) from None
        except requests.HTTPError as exc:
            status = exc.response.status_code if exc.response is not None else 0
            error = NodeError(
                "node answered with an HTTP error", rpc_url=self.rpc_url, method=method,
                http_status=status,
            )  # fmt: skip
            if status == 429 or status >= 500:
                raise _Transient(error) from None
            raise error from None
        except (ValueError, requests.RequestException) as exc:  # not JSON, broken response
            raise _Transient(
                NodeError(
                    "node answered garbage", rpc_url=self.rpc_url, method=method, reason=_short(exc)
                )
            ) from None
        if "error" in response:
            raise self._rpc_error(method, response["error"])
        return response.get("result")

    def _rpc_error(self, method: str, err: Any) -> Exception:
        code = err.get("code") if isinstance(err, dict) else None
        message = str(err.get("message", err)) if isinstance(err, dict) else str(err)
        error = NodeError(
            "node rejected the call", rpc_url=self.rpc_url, method=method, reason=message,
            rpc_code=code,
        )  # fmt: skip
        lowered = message.lower()
        if code in _TRANSIENT_CODES or any(w in lowered for w in _TRANSIENT_WORDS):
            return _Transient(error)
        return error

    # the port

    def chain_id(self) -> int:
        return _num(self.request("eth_chainId", []))

    def block_number(self) -> int:
        return _num(self.request("eth_blockNumber", []))

    def balance(self, address: str) -> int:
        return _num(self.request("eth_getBalance", [checksum_address(address), "latest"]))

    def pending_nonce(self, address: str) -> int:
        addr = checksum_address(address)
        return _num(self.request("eth_getTransactionCount", [addr, "pending"]))

    def mined_nonce(self, address: str) -> int:
        addr = checksum_address(address)
        return _num(self.request("eth_getTransactionCount", [addr, "latest"]))

    def receipt(self, tx_hash: str) -> Receipt | None:
        raw = self.request("eth_getTransactionReceipt", [tx_hash])
        return None if raw is None else _receipt(raw)

    def fee_history(self, block_count: int, percentile: float) -> FeeHistory:
        raw = self.request("eth_feeHistory", [hex(block_count), "latest", [percentile]])
        base_fees = [int(b, 16) for b in raw["baseFeePerGas"]]
        rewards = tuple(int(r[0], 16) if r else 0 for r in raw.get("reward") or [])
        return FeeHistory(next_base_fee=base_fees[-1], rewards=rewards)

    def fee_quote(self) -> FeeQuote:
        """Twice the latest base fee plus the node's suggested tip (a first estimate)."""
        block = self.request("eth_getBlockByNumber", ["latest", False])
        tip = _num(self.request("eth_maxPriorityFeePerGas", []))
        base = _num(block.get("baseFeePerGas", "0x0"))
        return FeeQuote(max_fee_per_gas=2 * base + tip, max_priority_fee_per_gas=tip)

    def estimate_gas(self, sender: str, to: str | None, value: int, data: bytes) -> int:
        tx: dict[str, Any] = {"from": checksum_address(sender), "value": hex(value)}
        if data:
            tx["data"] = "0x" + data.hex()
        if to is not None:
            tx["to"] = checksum_address(to)
        return _num(self.request("eth_estimateGas", [tx]))

    def call(self, to: str, data: bytes) -> bytes:
        tx = {"to": checksum_address(to), "data": "0x" + data.hex()}
        result = self.request("eth_call", [tx, "latest"])
        return bytes.fromhex(str(result).removeprefix("0x"))

    def send_raw_transaction(self, raw: bytes) -> str:
        """Broadcast; a retry of the same bytes that the node already has counts as success."""
        tx_hash = "0x" + keccak(raw).hex()
        try:
            answered = self.request(_SEND_RAW, ["0x" + raw.hex()])
        except NodeError as exc:
            reason = str(exc.context.get("reason", "")).lower()
            if any(phrase in reason for phrase in _ALREADY_KNOWN):
                return tx_hash
            # e.g. "nonce too low" because an earlier attempt whose answer we lost was mined:
            # if the node holds exactly these bytes (by hash), the broadcast did succeed
            if self.request("eth_getTransactionByHash", [tx_hash]) is not None:
                return tx_hash
            raise
        return _hex(answered) if answered else tx_hash

    def wait_for_receipt(self, tx_hash: str, timeout_s: float) -> Receipt:
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.receipt(tx_hash)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise TransactionNotMined("no receipt in time", rpc_url=self.rpc_url)
            time.sleep(0.05)


def _short(exc: BaseException) -> str:
    return str(exc)[:200]


def _receipt(raw: dict[str, Any]) -> Receipt:
    logs = tuple(
        Log(
            address=checksum_address(log["address"].lower()),
            topics=tuple(bytes.fromhex(t[2:]) for t in log["topics"]),
            data=bytes.fromhex(log["data"][2:]),
            log_index=_num(log["logIndex"]),
        )
        for log in raw["logs"]
    )
    contract = raw.get("contractAddress")
    return Receipt(
        tx_hash=_hex(raw["transactionHash"]),
        status=_num(raw["status"]),
        block_number=_num(raw["blockNumber"]),
        block_hash=_hex(raw["blockHash"]),
        gas_used=_num(raw["gasUsed"]),
        effective_gas_price=_num(raw["effectiveGasPrice"]),
        contract_address=checksum_address(contract.lower()) if contract else None,
        logs=logs,
    )
