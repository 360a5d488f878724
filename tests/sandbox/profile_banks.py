"""Banks with a chosen profile, each with its own database, server thread and port, sharing the
session's QTSP and clock; clients over mutual TLS whose responses are validated by the spec."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.sandbox.conftest import headers
from tests.sandbox.spec_validation import validate_exchange
from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp
from twinrail.sandbox.bank.profile import BankProfile
from twinrail.sandbox.bank.runtime import SandboxBank, build_bank

__all__ = ["RunningBank", "running_bank", "cli_bank_answer"]


@dataclass
class RunningBank:
    """A started bank and a way to open clients to it."""

    bank: SandboxBank
    url: str
    qtsp: SandboxQtsp
    clients: list[httpx.Client]

    def client(
        self, qwac: IssuedCertificate, *, validate: bool = True, **kwargs: Any
    ) -> httpx.Client:
        context = ssl.create_default_context(cafile=str(self.qtsp.ca_bundle_path))
        context.load_cert_chain(str(qwac.cert_path), str(qwac.key_path))
        hooks: dict[str, list[Callable[[httpx.Response], None]]] = {
            "response": [validate_exchange] if validate else []
        }
        client = httpx.Client(
            base_url=self.url, verify=context, timeout=10, event_hooks=hooks, **kwargs
        )
        self.clients.append(client)
        return client


@contextmanager
def running_bank(
    profile: BankProfile, qtsp: SandboxQtsp, directory: Path, clock: Any
) -> Iterator[RunningBank]:
    """Build and serve a bank with `profile` until the block ends."""
    bank = build_bank(
        profile.name,
        database_url=f"sqlite:///{directory}/{profile.name}.db",
        pki_dir=qtsp.directory,
        clock=clock,
        bank_profile=profile,
    )
    server = bank.server("127.0.0.1", 0)
    port = server.start_in_thread()
    running = RunningBank(bank, f"https://127.0.0.1:{port}", qtsp, [])
    try:
        yield running
    finally:
        for client in running.clients:
            client.close()
        server.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cli_bank_answer(
    profile: str, qtsp: SandboxQtsp, qwac: IssuedCertificate, bank_dir: Path, path: str
) -> httpx.Response:
    """Start `twinrail sandbox-bank` with `profile` as its own process (its data in `bank_dir`),
    GET `path` over mutual TLS as soon as it listens, and stop it: the first answer."""
    port = _free_port()
    env = {**os.environ, "TWINRAIL_SANDBOX_BANK_DIR": str(bank_dir)}
    code = "from twinrail.cli.sandbox_cli import app; app(prog_name='sandbox-bank')"
    process = subprocess.Popen(
        [sys.executable, "-c", code, "--profile", profile, "--port", str(port),
         "--pki-dir", str(qtsp.directory)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        context = ssl.create_default_context(cafile=str(qtsp.ca_bundle_path))
        context.load_cert_chain(str(qwac.cert_path), str(qwac.key_path))
        with httpx.Client(
            base_url=f"https://127.0.0.1:{port}", verify=context, timeout=5,
            event_hooks={"response": [validate_exchange]},
        ) as client:  # fmt: skip
            deadline = time.monotonic() + 30
            while True:
                try:
                    return client.get(path, headers=headers())
                except httpx.ConnectError:
                    assert process.poll() is None, process.stdout.read() if process.stdout else ""
                    assert time.monotonic() < deadline, "bank did not start"
                    time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)
