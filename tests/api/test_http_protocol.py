"""Every accepted connection gets TCP_NODELAY, even on a socket uvicorn created with proto 0."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.config import Config
from uvicorn.server import ServerState

from twinrail.api.http_protocol import NoDelayHTTPProtocol


async def _app(*_: object) -> None:  # pragma: no cover - no request is served
    raise AssertionError("not called")


def test_a_connection_on_a_socket_without_proto_gets_tcp_nodelay() -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # as `--workers N` binds
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    client = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0  # Nagle is on

    async def serve_one() -> None:
        config = Config(app=_app, lifespan="off", log_config=None)
        config.load()
        loop = asyncio.get_running_loop()
        protocol = NoDelayHTTPProtocol(config=config, server_state=ServerState(), app_state={})
        transport, _ = await loop.connect_accepted_socket(lambda: protocol, sock=accepted)
        assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        transport.close()

    try:
        asyncio.run(serve_one())
    finally:
        client.close()
        listener.close()
