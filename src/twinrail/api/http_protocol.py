"""uvicorn's HTTP protocol with TCP_NODELAY set on every connection, whatever made the socket.

With `--workers N` uvicorn binds the listening socket itself with `proto` 0; accepted sockets
inherit it, and asyncio only turns Nagle's algorithm off when `proto` is IPPROTO_TCP. Every
keep-alive response then waits for the client's delayed ACK: about 40 ms per request on Linux
(uvicorn issue #3149, open at the time of writing). Measured here: /healthz at 364 requests/s
with 2 workers against 3,561 with 1, before this class.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any, cast

from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = ["NoDelayHTTPProtocol"]

_Base: Any = AutoHTTPProtocol  # h11 or httptools, as uvicorn would choose


class NoDelayHTTPProtocol(_Base):  # type: ignore[misc]
    """Sends each response as soon as it is written (no Nagle), then serves as uvicorn does."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = cast("socket.socket | None", transport.get_extra_info("socket"))
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().connection_made(transport)
