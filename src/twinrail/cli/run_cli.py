"""`twinrail up` (what `make run` runs): the platform on the embedded default, in one terminal.

It starts the API (uvicorn, one process), a worker, the local chain (anvil) and the default
sandbox bank as child processes, creates an operator credential and a demo tenant on first run,
waits until everything answers, and prints the addresses and `curl` lines that work as printed.
Ctrl-C (or SIGTERM) stops every child; a child that dies stops the rest, so nothing is left
half-running. Children log to `<var_dir>/logs/<name>.log`, keeping this terminal readable.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import typer

__all__ = ["up", "DEMO_FILE", "READY_LINE"]

DEMO_FILE = "demo-client.json"
READY_LINE = "twinrail is up; Ctrl-C stops everything."
_CLI = [sys.executable, "-m", "twinrail.cli.main"]


@dataclass
class _Child:
    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]


@dataclass
class _Children:
    """The processes `up` started; stopped in reverse order, each SIGTERM then SIGKILL."""

    log_dir: Path
    env: dict[str, str]
    started: list[_Child] = field(default_factory=list)

    def start(self, name: str, args: list[str]) -> _Child:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [*_CLI, *args], env=self.env, stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True, preexec_fn=_die_with_parent,
        )  # fmt: skip
        child = _Child(name, process, log)
        self.started.append(child)
        return child

    def exited(self) -> _Child | None:
        return next((c for c in self.started if c.process.poll() is not None), None)

    def stop_all(self, timeout: float = 15.0) -> None:
        for child in reversed(self.started):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        for child in reversed(self.started):
            try:
                child.process.wait(timeout)
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait(timeout)
            child.log.close()


def _die_with_parent() -> None:
    """In the child: receive SIGTERM if `twinrail up` itself is killed (Linux)."""
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def up(
    host: str = typer.Option("127.0.0.1", help="Interface every service binds."),
    port: int = typer.Option(None, help="API port (default TWINRAIL_API_PORT, 8000)."),
    bank_port: int = typer.Option(None, help="Sandbox bank port (default 8443)."),
    chain_port: int = typer.Option(None, help="anvil port (default: the chain's RPC URL)."),
    bank: bool = typer.Option(True, help="Start the default sandbox bank."),
    chain: bool = typer.Option(True, help="Start anvil (skipped if it is not installed)."),
) -> None:
    """Run API, worker, anvil and the sandbox bank on the embedded default until Ctrl-C."""
    from twinrail.api.settings import ApiSettings
    from twinrail.crypto.settings import CryptoSettings
    from twinrail.sandbox.bank.settings import SandboxBankSettings
    from twinrail.settings import get_settings

    var_dir = get_settings().var_dir.resolve()
    port = port or ApiSettings().port
    bank_port = bank_port or SandboxBankSettings().sandbox_bank_port
    default_chain = CryptoSettings().default_chain()
    chain_port = chain_port or _port_of(default_chain.rpc_url)
    env = _child_env(var_dir, chain_port, default_chain.chain_id, host)
    os.environ.update(env)  # this process's own settings (bootstrap, PKI) match the children's
    (var_dir / "logs").mkdir(parents=True, exist_ok=True)

    operator, demo = _first_run(var_dir)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    children = _Children(var_dir / "logs", env)
    node = None
    try:
        if chain:
            node = _start_anvil(default_chain.chain_id, host, chain_port)
        if bank:
            _init_pki(Path(env["TWINRAIL_PKI_DIR"]))
            children.start(
                "sandbox-bank", ["sandbox-bank", "--host", host, "--port", str(bank_port)]
            )
        children.start("worker", ["worker"])
        children.start("api", ["serve", "--host", host, "--port", str(port)])
        base = f"http://{host}:{port}"
        waits = [("api", lambda: _http_ok(f"{base}/readyz"))]
        if bank:
            waits.append(("sandbox-bank", lambda: _listening(host, bank_port)))
        _wait_until_ready(children, waits, stop)
        if stop.is_set():
            return
        _print_banner(
            base, var_dir, operator, demo, node, bank and f"https://{host}:{bank_port}/v1"
        )
        print(READY_LINE, flush=True)
        while not stop.wait(0.5):
            dead = children.exited()
            if dead is not None:
                print(f"{dead.name} exited ({dead.process.returncode}); see {dead.log.name}")
                raise typer.Exit(1)
    finally:
        children.stop_all()
        if node is not None:
            node.stop()
        print("stopped", flush=True)


def _child_env(var_dir: Path, chain_port: int, chain_id: int, host: str) -> dict[str, str]:
    env = dict(os.environ)
    env["TWINRAIL_VAR_DIR"] = str(var_dir)
    env.setdefault("TWINRAIL_PKI_DIR", str(var_dir / "pki"))
    env.setdefault("TWINRAIL_SANDBOX_BANK_DIR", str(var_dir / "sandbox-bank"))
    chains = [{"chain_id": chain_id, "name": "anvil", "confirmations": 2,
               "rpc_url": f"http://{host}:{chain_port}"}]  # fmt: skip
    env.setdefault("TWINRAIL_CRYPTO_CHAINS", json.dumps(chains))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _port_of(url: str) -> int:
    tail = url.rsplit(":", 1)[-1].split("/", 1)[0]
    return int(tail) if tail.isdigit() else 8545


def _first_run(var_dir: Path) -> tuple[Any, dict[str, str]]:
    """The operator credential (new on first run, else None) and the demo tenant's details."""
    from twinrail.api.app import build_services
    from twinrail.api.service.first_run import ensure_operator_credential
    from twinrail.bootstrap import bootstrap
    from twinrail.cli.demo_tenant import ensure_demo_tenant

    services = build_services(bootstrap())
    try:
        services.tokens.ensure_signing_key()
        operator = ensure_operator_credential(services.credentials, var_dir)
        demo = ensure_demo_tenant(services, var_dir / DEMO_FILE)
    finally:
        services.close()
    return operator, demo


def _start_anvil(chain_id: int, host: str, port: int) -> Any:
    from twinrail.sandbox.anvil import AnvilError, AnvilNode

    try:
        return AnvilNode(chain_id=chain_id, host=host, port=port).start()
    except AnvilError as exc:
        print(f"anvil not started ({str(exc).splitlines()[0]}); continuing without a chain")
        return None


def _init_pki(pki_dir: Path) -> None:
    from twinrail.openbanking.service.sandbox_qtsp import SandboxQtsp

    qtsp = SandboxQtsp(pki_dir)
    if not qtsp.is_initialised():
        qtsp.init()


def _http_ok(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_until_ready(
    children: _Children, waits: list[tuple[str, Any]], stop: threading.Event, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    pending = list(waits)
    while pending and not stop.is_set():
        dead = children.exited()
        if dead is not None:
            print(f"{dead.name} exited ({dead.process.returncode}); see {dead.log.name}")
            raise typer.Exit(1)
        if time.monotonic() > deadline:
            print(f"not ready after {timeout:.0f} s: {', '.join(n for n, _ in pending)}")
            raise typer.Exit(1)
        pending = [(name, ready) for name, ready in pending if not ready()]
        if pending:
            stop.wait(0.2)


def _print_banner(
    base: str, var_dir: Path, operator: Any, demo: dict[str, str], node: Any, bank_url: Any
) -> None:
    print(f"API          {base}   (docs {base}/docs, metrics {base}/metrics)")
    print("worker       outbox relay, webhooks, hold expiry, audit sealer, deposit watcher")
    if node is not None:
        print(f"chain        {node.url}   (anvil, chain {node.chain_id})")
    if bank_url:
        print(f"sandbox bank {bank_url}   (mutual TLS; `twinrail pki` issues client certs)")
    print(f"logs         {var_dir / 'logs'}/")
    if operator is not None:
        print("\nfirst run: an operator credential, shown once "
              f"(also in {var_dir / 'operator-credential.json'}, mode 600):")  # fmt: skip
        print(f"  client_id     {operator.client.id}")
        print(f"  client_secret {operator.client_secret}")
    else:
        print(f"\noperator credential: {var_dir / 'operator-credential.json'} (mode 600)")
    print(f"\na demo tenant (a fintech's backend), in {var_dir / DEMO_FILE}; try:\n")
    for comment, line in example_requests(base, demo):
        print(f"# {comment}\n{line}\n")


def example_requests(base: str, demo: dict[str, str]) -> list[tuple[str, str]]:
    """(what it does, a curl line) for the demo tenant; each works as printed, and again."""
    auth = f"-H {shlex.quote('Authorization: Bearer ' + demo['api_key'])}"

    def post(path: str, key: str, body: dict[str, str]) -> str:
        return (
            f"curl -sS --fail-with-body -X POST {base}{path} {auth} "
            f"-H 'Idempotency-Key: {key}' -H 'Content-Type: application/json' "
            f"-d {shlex.quote(json.dumps(body, separators=(',', ':')))}"
        )

    order = {"type": "internal_transfer", "amount": "2500", "asset": "EUR",
             "source_account_id": demo["funded_account_id"],
             "destination_account_id": demo["account_id"], "reference": "make run"}  # fmt: skip
    return [
        ("ready? (database and bus)", f"curl -sS --fail-with-body {base}/readyz"),
        ("an access token (OAuth2 client credentials; the API key below works as well)",
         f"curl -sS --fail-with-body -X POST {base}/oauth/token -d grant_type=client_credentials "
         f"-d client_id={demo['client_id']} -d client_secret={demo['client_secret']}"),
        ("a new customer",
         post("/v1/customers", "demo-customer-1", {"kind": "individual", "name": "Grace Hopper"})),
        ("an EUR account for the demo customer",
         post("/v1/accounts", "demo-account-1",
              {"customer_id": demo["customer_id"], "asset": "EUR"})),
        ("move 25.00 EUR between the demo customer's accounts (runs to `completed`)",
         post("/v1/payment-orders", "demo-order-1", order)),
        ("the receiving account's balance, in cents",
         f"curl -sS --fail-with-body {base}/v1/accounts/{demo['account_id']}/balance {auth}"),
    ]  # fmt: skip
