"""`twinrail sandbox-bank`: run a Berlin Group sandbox bank over mutual TLS, or reset its data."""

from __future__ import annotations

from pathlib import Path

import typer

from twinrail.cli.output import console, err_console, print_json
from twinrail.openbanking.domain.errors import OpenBankingError
from twinrail.openbanking.settings import OpenBankingSettings
from twinrail.sandbox.bank.settings import SandboxBankSettings

app = typer.Typer(
    help="A NextGenPSD2 (Berlin Group 1.3.11) sandbox bank with mutual TLS and eIDAS checks.",
    invoke_without_command=True,
)

ProfileOption = typer.Option("default", "--profile", help="Bank profile (names its database).")
PkiOption = typer.Option(None, "--pki-dir", help="Sandbox QTSP directory (default var/pki).")


@app.callback()
def serve(
    ctx: typer.Context,
    profile: str = ProfileOption,
    host: str | None = typer.Option(None, help="Listen address (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Listen port (default 8443)."),
    pki_dir: Path | None = PkiOption,
) -> None:
    """Start the bank (HTTPS, client certificates required) unless a subcommand is given."""
    ctx.obj = {"profile": profile, "pki_dir": pki_dir}
    if ctx.invoked_subcommand is not None:
        return
    from twinrail.sandbox.bank.runtime import build_bank

    settings = SandboxBankSettings()
    pki = pki_dir or OpenBankingSettings().pki_dir
    try:
        bank = build_bank(profile, database_url=settings.database_url(profile), pki_dir=pki)
    except (OpenBankingError, ValueError) as exc:
        err_console.print(f"[bold red]error[/]: {getattr(exc, 'message', exc)}")
        raise typer.Exit(1) from None
    host = host or settings.sandbox_bank_host
    port = port or settings.sandbox_bank_port
    console.print(
        f"sandbox bank [bold]{profile}[/] on https://{host}:{port}/v1 "
        f"(client certificates from {bank.qtsp.ca_bundle_path})"
    )
    bank.server(host, port, log_level="info").run()


@app.command()
def seed(ctx: typer.Context) -> None:
    """Reset the bank's database to the seeded PSUs, accounts and transaction history."""
    from twinrail.platform.db import create_db_engine
    from twinrail.sandbox.bank.runtime import check_profile_name
    from twinrail.sandbox.bank.service.bank_service import BankService
    from twinrail.sandbox.bank.service.seed import SEED_PSUS

    profile = check_profile_name(ctx.obj["profile"])
    url = SandboxBankSettings().database_url(profile)
    counts = BankService(create_db_engine(url)).seed()
    print_json(
        {
            "profile": profile,
            **counts,
            "logins": {
                s.psu.psu_id: {"password": s.psu.password, "otp": s.psu.otp} for s in SEED_PSUS
            },
        }
    )
