"""Fault injection in front of a real node: a scriptable JSON-RPC proxy and a silent TCP port.

`FaultyProxy` forwards each JSON-RPC POST to the upstream node unless its script says otherwise
for that method: answer a JSON-RPC error, an HTTP status, hang (the client times out), forward
and then hang (the node acted, the answer is lost), or alter the node's answer.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

__all__ = ["FaultyProxy", "SilentPort", "Action"]

Action = tuple[Any, ...]
Mutator = Callable[[str, list[Any], dict[str, Any]], dict[str, Any]]


class FaultyProxy:
    """A local HTTP JSON-RPC endpoint in front of `upstream` that misbehaves on cue."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.script: dict[str, list[Action]] = {}
        self.calls: Counter[str] = Counter()
        self.mutate: Mutator | None = None
        self.released = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                proxy.serve(self, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def on(self, method: str, *actions: Action) -> None:
        """Queue `actions` for the next calls of `method`; later calls pass through."""
        with self._lock:
            self.script.setdefault(method, []).extend(actions)

    def _next(self, method: str) -> Action:
        with self._lock:
            self.calls[method] += 1
            queue = self.script.get(method)
            return queue.pop(0) if queue else ("pass",)

    def _forward(self, body: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = requests.post(self.upstream, json=body, timeout=10).json()
        if self.mutate is not None:
            answer = self.mutate(body["method"], body.get("params", []), answer)
        return answer

    def serve(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        action = self._next(body["method"])
        kind = action[0]
        if kind == "error":
            self._reply(handler, {"jsonrpc": "2.0", "id": body["id"], "error": action[1]})
        elif kind == "http":
            handler.send_response(action[1])
            handler.send_header("Content-Length", "0")
            handler.end_headers()
        elif kind == "hang":
            self.released.wait(10)
        elif kind == "forward_then_hang":
            self._forward(body)
            self.released.wait(10)
        else:
            self._reply(handler, self._forward(body))

    @staticmethod
    def _reply(handler: BaseHTTPRequestHandler, answer: dict[str, Any]) -> None:
        data = json.dumps(answer).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


class SilentPort:
    """A TCP port that accepts connections and never answers (a hung node)."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self._held.append(conn)

    def __enter__(self) -> SilentPort:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self._held:
            conn.close()
        self._sock.close()
