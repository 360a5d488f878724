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
    psu_port: int | None = typer.Option(
        None, help="Port of the PSU's pages (SCA login, banking app); default port + 1, 0 = any."
    ),
) -> None:
    """Start the bank (HTTPS, client certificates required) unless a subcommand is given."""
    ctx.obj = {"profile": profile, "pki_dir": pki_dir}
    if ctx.invoked_subcommand is not None:
        return
    from twinrail.sandbox.bank.profile import load_profile
    from twinrail.sandbox.bank.runtime import build_bank

    settings = SandboxBankSettings()
    pki = pki_dir or OpenBankingSettings().pki_dir
    try:
        behaviour, source = load_profile(profile, settings.sandbox_bank_profiles_dir)
        bank = build_bank(
            profile,
            database_url=settings.database_url(profile),
            pki_dir=pki,
            bank_profile=behaviour,
            sandbox_phone=settings.sandbox_bank_sandbox_phone,
        )
    except (OpenBankingError, ValueError) as exc:
        err_console.print(f"[bold red]error[/]: {getattr(exc, 'message', exc)}")
        raise typer.Exit(1) from None
    host = host or settings.sandbox_bank_host
    port = port or settings.sandbox_bank_port
    console.print(
        f"sandbox bank [bold]{profile}[/] on https://{host}:{port}/v1 "
        f"(client certificates from {bank.qtsp.ca_bundle_path}); profile "
        f"{source or 'defaults (no profile file of this name)'}"
    )
    # The PSU's pages: TLS without client certificates, for browsers (scaRedirect points here).
    pages = bank.start_psu_pages(host, port + 1 if psu_port is None else psu_port)
    console.print(f"PSU pages on {bank.app.state.psu_base_url}/psu/ (SCA login, banking app)")
    try:
        bank.server(host, port, log_level="info").run()
    finally:
        pages.stop()


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
            # Embedded SCA takes `otp` as is; redirect SCA codes are bound to amount and payee
            # (HMAC keyed with `otp`) and shown on the bank's sandbox phone page.
            "redirect_sca_codes": "https://<host>:<psu-port>/psu/phone/<psu-id>",
        }
    )


@app.command()
def profiles() -> None:
    """List the bank profiles and what each one configures."""
    from twinrail.sandbox.bank.profile import load_profile, profile_names

    extra = SandboxBankSettings().sandbox_bank_profiles_dir
    print_json(
        {
            name: load_profile(name, extra)[0].model_dump(mode="json")
            for name in profile_names(extra)
        }
    )
