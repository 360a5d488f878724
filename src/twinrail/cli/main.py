"""The `twinrail` command line."""

from __future__ import annotations

import typer

from twinrail.cli import (
    audit_cli,
    chain_cli,
    charge_cli,
    compliance_cli,
    custody_cli,
    ledger_cli,
    outbox_cli,
    pki_cli,
    run_cli,
    sandbox_cli,
    serve_cli,
)

app = typer.Typer(
    name="twinrail",
    help="One backend for banks and blockchains: ledger, pipeline, compliance.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(ledger_cli.app, name="ledger")
app.add_typer(audit_cli.app, name="audit")
app.add_typer(outbox_cli.app, name="outbox")
app.add_typer(serve_cli.app, name="api")
chain_cli.app.add_typer(charge_cli.app, name="charge")
app.add_typer(chain_cli.app, name="chain")
app.add_typer(custody_cli.app, name="custody")
app.add_typer(pki_cli.app, name="pki")
app.add_typer(compliance_cli.app, name="compliance")
app.add_typer(sandbox_cli.app, name="sandbox-bank")
app.command("serve")(serve_cli.serve)
app.command("up")(run_cli.up)


@app.command()
def walkthrough() -> None:
    """A guided tour of the ledger on the embedded database."""
    from twinrail.cli.walkthrough import run

    run()


@app.command()
def worker() -> None:
    """Run the background loops: relay, sealer, expiries, webhooks, chains, follow-ups."""
    from twinrail.bootstrap import bootstrap
    from twinrail.cli.output import console
    from twinrail.platform.bus import bus_from_url
    from twinrail.platform.logging import configure_logging
    from twinrail.platform.telemetry import configure_tracing
    from twinrail.runtime.worker import Worker, build_loops

    configure_logging()
    configure_tracing()
    platform = bootstrap()
    settings = platform.settings
    bus = bus_from_url(settings.bus_url, settings.bus_stream)
    runner = Worker(build_loops(platform, bus))
    console.print(
        f"worker on [bold]{platform.engine.url.render_as_string(hide_password=True)}[/], "
        f"bus {settings.bus_url}; loops: {', '.join(loop.name for loop in runner.loops)}"
    )
    try:
        runner.run_until_signalled()
    finally:
        bus.close()


@app.command("migrate")
def migrate() -> None:
    """Bring the configured database up to the latest schema."""
    from twinrail.platform.db import create_db_engine
    from twinrail.platform.migrate import upgrade
    from twinrail.settings import get_settings

    settings = get_settings()
    upgrade(create_db_engine(settings.resolved_database_url()))
    typer.echo("database is up to date")


if __name__ == "__main__":  # pragma: no cover
    app()
