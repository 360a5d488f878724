"""`twinrail serve` and `twinrail api ...`: run the HTTP API; manage its clients and keys."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from twinrail.api.domain.roles import Role
from twinrail.cli.output import JsonOption, console, err_console, print_json

__all__ = ["app", "serve", "prepare_multiprocess_metrics"]


def handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Known errors (api and ledger) as one readable line and exit code 1."""
    from twinrail.cli.output import handled as ledger_handled

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from twinrail.api.domain.errors import ApiError

        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {exc.message}")
            raise typer.Exit(1) from None

    return ledger_handled(wrapper)


app = typer.Typer(help="The HTTP API: clients, API keys, signing keys.", no_args_is_help=True)


def _services() -> Any:
    from twinrail.api.app import build_services
    from twinrail.bootstrap import bootstrap

    return build_services(bootstrap())


def serve(
    host: str = typer.Option(None, help="Interface to bind (default TWINRAIL_API_HOST)."),
    port: int = typer.Option(None, help="Port (default TWINRAIL_API_PORT)."),
    workers: int = typer.Option(1, min=1, help="uvicorn worker processes."),
) -> None:
    """Run the HTTP API on uvicorn; on first run, create and print an operator credential."""
    import uvicorn

    from twinrail.api.http_protocol import NoDelayHTTPProtocol
    from twinrail.api.service.first_run import OPERATOR_CREDENTIAL_FILE, ensure_operator_credential
    from twinrail.api.settings import ApiSettings
    from twinrail.platform.logging import configure_logging

    configure_logging()
    settings = ApiSettings()
    services = _services()
    services.tokens.ensure_signing_key()  # before the workers start, so they share one key
    var_dir = services.platform.settings.var_dir
    issued = ensure_operator_credential(services.credentials, var_dir)
    if issued is not None:
        console.print("[bold]first run:[/] operator credential (shown once; also in "
                      f"{var_dir / OPERATOR_CREDENTIAL_FILE})")  # fmt: skip
        console.print(f"  client_id     {issued.client.id}")
        console.print(f"  client_secret {issued.client_secret}")
    if workers > 1:
        prepare_multiprocess_metrics(var_dir)
    uvicorn.run(
        "twinrail.api.app:app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        http=NoDelayHTTPProtocol,  # several workers would otherwise wait ~40 ms per response
        log_level="info",
        log_config=None,  # keep twinrail's logging (JSON lines or console, secrets redacted)
    )


def prepare_multiprocess_metrics(var_dir: Path) -> Path:
    """Give the workers one fresh directory for their metrics (`PROMETHEUS_MULTIPROC_DIR`).

    A directory set in the environment is used as given; otherwise `<var_dir>/prometheus`.
    Files left by an earlier run are removed, or their counts would be added to this run's.
    """
    from twinrail.api.metrics import MULTIPROC_ENV

    directory = Path(os.environ.get(MULTIPROC_ENV) or var_dir / "prometheus")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(directory)  # inherited by the worker processes
    return directory


app.command("serve")(serve)


@app.command("create-client")
@handled
def create_client(
    name: str = typer.Argument(..., help="Who the client is, e.g. a fintech's name."),
    role: Role = typer.Option(Role.CLIENT, help="RBAC role."),
    as_json: bool = JsonOption,
) -> None:
    """Create an API client; its secret is printed once."""
    issued = _services().credentials.create_client(name, role, actor="cli")
    data = {"client_id": issued.client.id, "client_secret": issued.client_secret,
            "role": role.value, "name": name}  # fmt: skip
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"{key:14} {value}")
    console.print("[dim]the secret is not stored; keep it now[/]")


@app.command("list-clients")
@handled
def list_clients(as_json: bool = JsonOption) -> None:
    """Every API client."""
    found = _services().credentials.list_clients(None, 10_000)
    rows = [
        {"client_id": c.id, "name": c.name, "role": c.role.value,
         "created_at": c.created_at.isoformat(), "disabled": c.disabled}
        for c in found
    ]  # fmt: skip
    if as_json:
        print_json(rows)
        return
    table = Table("client_id", "name", "role", "created_at", "disabled")
    for row in rows:
        table.add_row(*(str(v) for v in row.values()))
    console.print(table)


@app.command("create-api-key")
@handled
def create_api_key(
    client_id: str = typer.Argument(...),
    name: str = typer.Option("default", help="What the key is for."),
    as_json: bool = JsonOption,
) -> None:
    """Create an API key for a client; the key is printed once."""
    issued = _services().credentials.create_api_key(client_id, name, actor="cli")
    data = {"id": issued.key.id, "prefix": issued.key.prefix, "api_key": issued.api_key}
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"{key:8} {value}")


@app.command("revoke-api-key")
@handled
def revoke_api_key(key_id: str = typer.Argument(...)) -> None:
    """Revoke an API key at once."""
    _services().credentials.revoke_api_key(key_id, tenant_id=None, actor="cli")
    console.print(f"revoked {key_id}")


@app.command("rotate-signing-key")
@handled
def rotate_signing_key() -> None:
    """Sign new tokens with a fresh key; older tokens verify until they expire."""
    console.print(f"signing with {_services().tokens.rotate(actor='cli')}")
