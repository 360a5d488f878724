"""`twinrail pki` drives the sandbox QTSP from the command line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from twinrail.cli.pki_cli import app

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_init_issue_revoke_and_list(tmp_path):
    d = str(tmp_path / "pki")
    assert invoke("init", "--dir", d).exit_code == 0
    issued = invoke(
        "issue-qwac", "tpp", "--org", "Example TPP", "--org-id", "PSDDE-BAFIN-42",
        "--role", "PSP_AI", "--role", "psp_pi", "--dir", d, "--json",
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output
    info = json.loads(issued.output)
    shown = json.loads(invoke("show", info["cert"]).output)
    assert shown["roles"] == ["PSP_AI", "PSP_PI"]
    assert shown["organization_identifier"] == "PSDDE-BAFIN-42"
    assert shown["qc_types"] == ["WEB"]
    seal = invoke(
        "issue-qsealc", "seal", "--org", "Example TPP", "--org-id", "PSDDE-BAFIN-42",
        "--role", "PSP_PI", "--dir", d, "--json",
    )  # fmt: skip
    assert json.loads(invoke("show", json.loads(seal.output)["cert"]).output)["qc_types"] == [
        "ESEAL"
    ]
    assert invoke("issue-server", "bank", "--dir", d).exit_code == 0
    assert invoke("revoke", "tpp", "--reason", "keyCompromise", "--dir", d).exit_code == 0
    listing = json.loads(invoke("list", "--dir", d, "--json").output)
    assert listing["tpp"]["revoked"]["reason"] == "keyCompromise"
    assert listing["seal"]["revoked"] is None
    assert invoke("crl", "--dir", d).exit_code == 0


def test_misuse_gives_one_readable_error_and_exit_code_1(tmp_path):
    d = str(tmp_path / "pki")
    assert invoke("revoke", "x", "--dir", d).exit_code == 1  # not initialised
    invoke("init", "--dir", d)
    assert invoke("init", "--dir", d).exit_code == 1
    bad_org = invoke(
        "issue-qwac", "t", "--org", "T", "--org-id", "BAD", "--role", "PSP_AI", "--dir", d
    )
    assert bad_org.exit_code == 1
    bad_role = invoke(
        "issue-qwac", "t", "--org", "T", "--org-id", "PSDDE-BAFIN-1", "--role", "X", "--dir", d
    )
    assert bad_role.exit_code == 1
