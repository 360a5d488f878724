"""HTTPS with client certificates required, and the client certificate handed to the app.

uvicorn does not implement the ASGI TLS extension, so a small h11 protocol subclass reads the
peer certificate from the connection's SSL object once the handshake is done and wraps the app
for that connection to put it in `scope["extensions"]["tls"]` (the extension's own shape). The
certificate therefore comes from the TLS session itself, never from a header a client could set.

TLS verifies the chain to the QTSP (CERT_REQUIRED): an untrusted or self-signed client
certificate ends the handshake with an `unknown_ca` alert, as at a real bank's TLS terminator.
Validity *time* is not checked by TLS (X509_V_FLAG_NO_CHECK_TIME) and revocation is not loaded
into TLS, so that the application judges both by sandbox time and the QTSP's current CRL and
answers with CERTIFICATE_EXPIRED / CERTIFICATE_REVOKED in `tppMessages`.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import uvicorn
from cryptography import x509
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["MtlsH11Protocol", "BankServer", "client_certificate", "X509_V_FLAG_NO_CHECK_TIME"]

X509_V_FLAG_NO_CHECK_TIME = 0x200000  # OpenSSL's flag; the ssl module has no name for it


def client_certificate(scope: dict[str, Any]) -> x509.Certificate | None:
    """The TLS client certificate of this request's connection, if one was presented."""
    tls = scope.get("extensions", {}).get("tls") or {}
    chain = tls.get("client_cert_chain") or []
    return x509.load_pem_x509_certificate(chain[0].encode("ascii")) if chain else None


class _TlsScope:
    """Wraps the app for one connection, adding the ASGI `tls` extension to each scope."""

    def __init__(self, app: Any, tls: dict[str, Any]) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "extensions": {**(scope.get("extensions") or {}), "tls": self.tls}}
        await self.app(scope, receive, send)


class MtlsH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, exposing the peer certificate through the ASGI TLS extension."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        ssl_object: ssl.SSLObject | None = transport.get_extra_info("ssl_object")
        if ssl_object is None:
            return
        der = ssl_object.getpeercert(binary_form=True)
        chain = [ssl.DER_cert_to_PEM_cert(der)] if der else []
        self.app = _TlsScope(
            self.config.loaded_app,
            {
                "server_cert": None,
                "client_cert_chain": chain,
                "client_cert_name": None,
                "client_cert_error": None,
                "tls_version": None,
                "cipher_suite": None,
            },
        )


class BankServer:
    """One sandbox bank listening with mutual TLS; runs in the foreground or in a thread."""

    def __init__(
        self,
        app: Any,
        *,
        host: str,
        port: int,
        certfile: Path,
        keyfile: Path,
        client_ca_bundle: Path | None,
        log_level: str = "warning",
    ) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http=MtlsH11Protocol,
            lifespan="off",
            log_level=log_level,
            ssl_certfile=str(certfile),
            ssl_keyfile=str(keyfile),
            # No bundle: a server for browsers (the PSU's pages), asking for no certificate.
            ssl_ca_certs=str(client_ca_bundle) if client_ca_bundle else None,
            ssl_cert_reqs=ssl.CERT_REQUIRED if client_ca_bundle else ssl.CERT_NONE,
            timeout_keep_alive=30,
        )
        config.load()
        assert config.ssl is not None
        config.ssl.minimum_version = ssl.TLSVersion.TLSv1_2
        config.ssl.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def run(self) -> None:
        """Serve in the foreground until interrupted."""
        self.server.run()

    def start_in_thread(self, timeout: float = 10.0) -> int:
        """Serve from a background thread; returns the bound port (useful with port 0)."""
        sock = socket.create_server((self.host, self.port))
        self._socket = sock
        self.port = sock.getsockname()[1]
        self._thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [sock]}, daemon=True, name="sandbox-bank"
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("sandbox bank did not start")
            time.sleep(0.02)
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the server to finish and wait for its thread."""
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
