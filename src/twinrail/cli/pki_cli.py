"""`twinrail pki`: the sandbox QTSP — CAs, QWACs and QSealCs with PSD2 roles, revocation, CRL."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from cryptography import x509

from twinrail.cli.output import JsonOption, console, err_console, print_json
from twinrail.openbanking.domain.certificates import read_tpp_certificate
from twinrail.openbanking.domain.errors import OpenBankingError
from twinrail.openbanking.domain.psd2 import OrganizationIdentifier, Psd2Role
from twinrail.openbanking.service.sandbox_qtsp import IssuedCertificate, SandboxQtsp
from twinrail.openbanking.settings import OpenBankingSettings

app = typer.Typer(help="The sandbox QTSP: eIDAS test certificates for TPPs and banks.")

DirOption = typer.Option(
    None, "--dir", help="QTSP directory (default $TWINRAIL_PKI_DIR or var/pki)."
)
RoleOption = typer.Option(
    ..., "--role", help="PSD2 role (repeatable): PSP_AS, PSP_PI, PSP_AI, PSP_IC."
)


def _qtsp(directory: Path | None) -> SandboxQtsp:
    return SandboxQtsp(directory or OpenBankingSettings().pki_dir)


def _handled(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OpenBankingError as exc:
            err_console.print(f"[bold red]error[/] [dim]{exc.code}[/]: {exc.message}")
            raise typer.Exit(1) from None
        except ValueError as exc:
            err_console.print(f"[bold red]error[/]: {exc}")
            raise typer.Exit(1) from None

    return wrapper


def _report(issued: IssuedCertificate, as_json: bool) -> None:
    info = {
        "name": issued.name,
        "kind": issued.kind,
        "serial": format(issued.serial_number, "x"),
        "subject": issued.certificate.subject.rfc4514_string(),
        "not_after": issued.certificate.not_valid_after_utc.isoformat(),
        "cert": str(issued.cert_path),
        "key": str(issued.key_path),
        "chain": str(issued.chain_path),
    }
    if as_json:
        print_json(info)
        return
    for key, value in info.items():
        console.print(f"[bold]{key:>9}[/] {value}")


@app.command()
@_handled
def init(
    directory: Path | None = DirOption,
    name: str = typer.Option("Twinrail Sandbox QTSP", help="The QTSP's organisation name."),
    country: str = typer.Option("DE", help="The QTSP's country."),
) -> None:
    """Create the test QTSP: a root CA, an issuing CA and an empty CRL."""
    qtsp = _qtsp(directory)
    qtsp.init(name=name, country=country)
    console.print(f"QTSP created in {qtsp.directory}; trust bundle {qtsp.ca_bundle_path}")


def _issue(kind: str, **kwargs: Any) -> None:
    qtsp = _qtsp(kwargs.pop("directory"))
    as_json = kwargs.pop("as_json")
    org_id = OrganizationIdentifier.parse(kwargs.pop("org_id"))
    roles = [Psd2Role(r.upper()) for r in kwargs.pop("roles")]
    issued = qtsp.issue_tpp_certificate(
        kwargs.pop("name"), kind=kind, organization_id=org_id, roles=roles, **kwargs
    )
    _report(issued, as_json)


@app.command("issue-qwac")
@_handled
def issue_qwac(
    name: str = typer.Argument(..., help="File name for the certificate under certs/."),
    organization: str = typer.Option(..., "--org", help="The TPP's legal name."),
    org_id: str = typer.Option(..., "--org-id", help="organizationIdentifier, PSD<CC>-<NCA>-<id>."),
    roles: list[str] = RoleOption,
    nca_name: str = typer.Option("Sandbox Financial Supervisory Authority", "--nca-name"),
    validity_days: int = typer.Option(365, "--days"),
    key_type: str = typer.Option("ec", "--key-type", help="ec (P-256) or rsa (2048)."),
    directory: Path | None = DirOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a QWAC (TLS client certificate) with the PSD2 QCStatement."""
    _issue("qwac", **locals())


@app.command("issue-qsealc")
@_handled
def issue_qsealc(
    name: str = typer.Argument(..., help="File name for the certificate under certs/."),
    organization: str = typer.Option(..., "--org", help="The TPP's legal name."),
    org_id: str = typer.Option(..., "--org-id", help="organizationIdentifier, PSD<CC>-<NCA>-<id>."),
    roles: list[str] = RoleOption,
    nca_name: str = typer.Option("Sandbox Financial Supervisory Authority", "--nca-name"),
    validity_days: int = typer.Option(365, "--days"),
    key_type: str = typer.Option("ec", "--key-type", help="ec (P-256) or rsa (2048)."),
    directory: Path | None = DirOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a QSealC (for HTTP message signatures) with the PSD2 QCStatement."""
    _issue("qsealc", **locals())


@app.command("issue-server")
@_handled
def issue_server(
    name: str = typer.Argument("sandbox-bank", help="File name under certs/."),
    dns_names: list[str] = typer.Option(["localhost"], "--dns", help="DNS names (repeatable)."),
    ips: list[str] = typer.Option(["127.0.0.1", "::1"], "--ip", help="IP addresses (repeatable)."),
    directory: Path | None = DirOption,
    as_json: bool = JsonOption,
) -> None:
    """Issue a sandbox bank's TLS server certificate."""
    issued = _qtsp(directory).issue_server_certificate(name, dns_names=dns_names, ip_addresses=ips)
    _report(issued, as_json)


@app.command()
@_handled
def revoke(
    name: str = typer.Argument(..., help="The issued certificate's name."),
    reason: str = typer.Option("unspecified", help="RFC 5280 reason, e.g. keyCompromise."),
    directory: Path | None = DirOption,
) -> None:
    """Revoke a certificate and re-publish the CRL."""
    qtsp = _qtsp(directory)
    qtsp.revoke(name, reason=reason)
    console.print(f"revoked {name}; CRL at {qtsp.crl_path}")


@app.command()
@_handled
def crl(directory: Path | None = DirOption) -> None:
    """Re-publish the CRL (e.g. before its next update is due)."""
    console.print(str(_qtsp(directory).publish_crl()))


@app.command("list")
@_handled
def list_certificates(directory: Path | None = DirOption, as_json: bool = JsonOption) -> None:
    """Every certificate this QTSP issued, with its revocation."""
    issued = _qtsp(directory).issued()
    if as_json:
        print_json(issued)
        return
    for name, entry in sorted(issued.items()):
        state = f"revoked ({entry['revoked']['reason']})" if entry["revoked"] else "valid"
        console.print(f"{name:<24} {entry['kind']:<7} {entry['serial']}  {state}")


@app.command()
@_handled
def show(path: Path = typer.Argument(..., exists=True, dir_okay=False)) -> None:
    """Print the PSD2 content of a certificate file (roles, NCA, organisation id)."""
    tpp = read_tpp_certificate(x509.load_pem_x509_certificate(path.read_bytes()))
    print_json(
        {
            "subject_cn": tpp.common_name,
            "organization_identifier": tpp.tpp_id or None,
            "roles": sorted(r.value for r in tpp.roles),
            "nca_name": tpp.psd2.nca_name if tpp.psd2 else None,
            "nca_id": tpp.psd2.nca_id if tpp.psd2 else None,
            "qc_types": sorted(t.name for t in tpp.qc_statements.qc_types)
            if tpp.qc_statements
            else [],
            "not_after": tpp.not_after.isoformat(),
        }
    )
