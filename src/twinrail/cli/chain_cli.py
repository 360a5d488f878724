"""`twinrail chain ...`: the local EVM node and the test token on it."""

from __future__ import annotations

import functools
import signal
import threading
from collections.abc import Callable
from typing import Any

import typer

from twinrail.cli.output import JsonOption, console, err_console, print_json
from twinrail.crypto.domain.errors import CryptoError, NodeError
from twinrail.crypto.settings import CryptoSettings

__all__ = ["app", "crypto_errors"]

app = typer.Typer(help="EVM chains: the local anvil node and the test token.", no_args_is_help=True)

DEV_TOP_UP_WEI = 10 * 10**18


def crypto_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn crypto errors into one readable line and exit 1 (2 for retryable faults)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CryptoError as exc:
            err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {exc.message}")
            for key, value in exc.context.items():
                err_console.print(f"  {key}: {value}")
            raise typer.Exit(2 if exc.retryable else 1) from None

    return wrapper


def _port_of(url: str) -> int:
    tail = url.rsplit(":", 1)[-1].split("/", 1)[0]
    return int(tail) if tail.isdigit() else 8545


@app.command("up")
def up(
    chain_id: int = typer.Option(None, help="Chain id (default: the first configured chain)."),
    port: int = typer.Option(None, help="Port (default: from the chain's RPC URL; 0 = any)."),
    block_time: float = typer.Option(None, help="Seconds per block; default mines per tx."),
    exit_after: float = typer.Option(None, hidden=True, help="Stop after N seconds (tests)."),
) -> None:
    """Start anvil for the embedded default chain and run until Ctrl-C."""
    from twinrail.sandbox.anvil import AnvilError, AnvilNode

    chain = CryptoSettings().default_chain()
    node = AnvilNode(
        chain_id=chain_id or chain.chain_id,
        port=_port_of(chain.rpc_url) if port is None else port,
        block_time=block_time,
    )
    try:
        node.start()
    except AnvilError as exc:
        err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {exc}")
        raise typer.Exit(1) from None
    console.print(f"anvil chain {node.chain_id} listening on {node.url} (pid {node.pid})")
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
    try:
        while node.running and not stop.wait(0.2):
            if exit_after is not None:
                exit_after -= 0.2
                if exit_after <= 0:
                    break
    finally:
        code = node.stop()
    console.print(f"anvil stopped (exit {code})")


@app.command("list")
def list_chains(json_out: bool = JsonOption) -> None:
    """The configured chains and their tokens."""
    chains = [c.model_dump(mode="json") for c in CryptoSettings().chains]
    if json_out:
        print_json(chains)
        return
    for c in chains:
        tokens = ", ".join(f"{t['symbol']}@{t['address']}" for t in c["tokens"]) or "no tokens"
        console.print(
            f"{c['chain_id']} {c['name']} {c['rpc_url']} "
            f"confirmations={c['confirmations']} finality={c['finality']} {tokens}"
        )


@app.command("deploy-token")
@crypto_errors
def deploy_token(
    chain_id: int = typer.Option(None, help="Configured chain id (default: the first)."),
    rpc_url: str = typer.Option(None, help="Override the chain's RPC URL."),
    owner: str = typer.Option(None, help="Key-store address that deploys and owns the token."),
    name: str = typer.Option("Twin USD", help="Token name."),
    symbol: str = typer.Option("USDC", help="Token symbol."),
    json_out: bool = JsonOption,
) -> None:
    """Compile contracts/StableToken.vy and deploy it (6 decimals, owner mints and burns)."""
    from twinrail.crypto.adapters.vyper_compiler import compile_contract
    from twinrail.crypto.service.signer import TransactionSigner
    from twinrail.crypto.service.token import StableTokenService
    from twinrail.crypto.service.transfers import TransactionSender
    from twinrail.crypto.wiring import open_chain_client, open_key_store

    settings = CryptoSettings()
    registry = settings.registry()
    chain = registry.get(chain_id) if chain_id else settings.default_chain()
    client = open_chain_client(chain) if not rpc_url else _client_for(rpc_url)
    node_chain_id = client.chain_id()
    if not rpc_url and node_chain_id != chain.chain_id:
        raise NodeError(
            "the node serves another chain than configured",
            configured=chain.chain_id,
            node=node_chain_id,
            rpc_url=chain.rpc_url,
        )
    keys = open_key_store(settings)
    try:
        owner = owner or (keys.addresses() or [keys.create_key()])[0]
        _top_up_on_dev_chain(client, owner)
        sender = TransactionSender(client, TransactionSigner(keys), chain_id=node_chain_id)
        contract = compile_contract("StableToken")
        deployed = StableTokenService(client, sender, chain_id=node_chain_id).deploy(
            contract.bytecode, owner, name=name, symbol=symbol
        )
    finally:
        keys.close()
    result = {
        "chain_id": deployed.chain_id,
        "address": deployed.address,
        "owner": deployed.owner,
        "symbol": deployed.symbol,
        "decimals": deployed.decimals,
        "tx_hash": deployed.tx_hash,
        "key_store": keys.kind,
    }
    if json_out:
        print_json(result)
        return
    console.print(f"{symbol} deployed at {deployed.address} on chain {deployed.chain_id}")
    console.print(f"owner {owner} ({keys.kind} key store); tx {deployed.tx_hash}")
    console.print("list it in TWINRAIL_CRYPTO_CHAINS under the chain's tokens to use it")


def _client_for(rpc_url: str) -> Any:
    from twinrail.crypto.adapters.evm_rpc import Web3ChainClient

    return Web3ChainClient(rpc_url)


def _top_up_on_dev_chain(client: Any, address: str) -> None:
    """On anvil only, give the deployer gas money (real chains need a real funding step)."""
    version = str(client.request("web3_clientVersion", []))
    if "anvil" in version.lower() and client.balance(address) == 0:
        client.request("anvil_setBalance", [address, hex(DEV_TOP_UP_WEI)])


@app.command("withdraw")
@crypto_errors
def withdraw(
    account: str = typer.Option(..., help="The customer's ledger account paying out."),
    to: str = typer.Option(..., help="Destination address (EIP-55 checksummed)."),
    amount: str = typer.Option(..., help="Amount in whole units, e.g. 1.5 (asset decimals)."),
    asset: str = typer.Option("ETH", help="ETH or a listed token symbol."),
    chain_id: int = typer.Option(None, help="Configured chain id (default: the first)."),
    withdrawal_id: str = typer.Option(None, "--id", help="Idempotency id (default: random)."),
    wait: float = typer.Option(0.0, help="Drive it here for up to N seconds (0: the worker)."),
    json_out: bool = JsonOption,
) -> None:
    """Hold the funds and queue a withdrawal; `twinrail worker` (or --wait) pays it out."""
    import time
    import uuid

    from twinrail.bootstrap import bootstrap
    from twinrail.crypto.domain.withdrawals import WithdrawalRequest, to_base_units
    from twinrail.crypto.service.withdrawals import WithdrawalService
    from twinrail.ledger.domain.errors import LedgerRejection

    settings = CryptoSettings()
    registry = settings.registry()
    chain = registry.get(chain_id) if chain_id else settings.default_chain()
    is_native = asset.strip().lower() == chain.native.symbol.lower()
    decimals = chain.native.decimals if is_native else chain.token(asset).decimals
    platform = bootstrap()
    ledger = platform.ledger.acting_as("cli")
    service = WithdrawalService(platform.engine, ledger, registry, actor="cli")
    request = WithdrawalRequest(
        withdrawal_id or f"cli-{uuid.uuid4().hex}",
        account,
        chain.chain_id,
        asset,
        to_base_units(amount, decimals),
        to,
    )
    try:
        withdrawal = service.request(request)
    except LedgerRejection as exc:  # e.g. more than the account has available
        err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {exc.message}")
        raise typer.Exit(1) from None
    if wait > 0:
        withdrawal = _drive(
            platform, settings, chain.chain_id, withdrawal.id, time.monotonic() + wait
        )
    result = _withdrawal_json(withdrawal)
    if json_out:
        print_json(result)
        return
    console.print(
        f"withdrawal {withdrawal.id}: {withdrawal.status.value} ({withdrawal.reason})"
        + (f" tx {withdrawal.tx_hash}" if withdrawal.tx_hash else "")
    )


@app.command("withdrawals")
def list_withdrawals(
    chain_id: int = typer.Option(None, help="Only this chain."),
    status: str = typer.Option(None, help="Only this status (held, signed, ..., final)."),
    limit: int = typer.Option(50, help="How many, newest first."),
    json_out: bool = JsonOption,
) -> None:
    """Recent withdrawals and where each one is."""
    from twinrail.bootstrap import bootstrap
    from twinrail.crypto.service.withdrawals import WithdrawalService

    platform = bootstrap()
    service = WithdrawalService(platform.engine, platform.ledger, CryptoSettings().registry())
    found = service.recent(chain_id=chain_id, status=status, limit=limit)
    if json_out:
        print_json([_withdrawal_json(w) for w in found])
        return
    for w in found:
        console.print(
            f"{w.id} chain={w.chain_id} {w.amount} {w.asset} → {w.to_address} "
            f"{w.status.value} nonce={w.nonce} tx={w.tx_hash or '-'} {w.reason}"
        )


def _drive(platform: Any, settings: CryptoSettings, chain_id: int, wid: str, until: float) -> Any:
    import time

    from twinrail.crypto.wiring import open_key_store
    from twinrail.crypto.withdrawal_workers import build_withdrawal_processor

    config = settings.chain_config(chain_id)
    assert config is not None
    keys = open_key_store(settings)
    try:
        processor = build_withdrawal_processor(
            platform.engine, platform.ledger, settings, config, keys
        )
        while True:
            processor.run_once()
            current = processor.withdrawal(wid)
            if current is None or current.is_terminal or time.monotonic() > until:
                return current
            time.sleep(0.2)
    finally:
        keys.close()


def _withdrawal_json(w: Any) -> dict[str, Any]:
    return {
        "id": w.id,
        "account_id": w.account_id,
        "chain_id": w.chain_id,
        "asset": w.asset,
        "amount": str(w.amount),
        "to_address": w.to_address,
        "status": w.status.value,
        "reason": w.reason,
        "nonce": w.nonce,
        "tx_hash": w.tx_hash,
        "fee": str(w.fee) if w.fee is not None else None,
    }
