"""First run: an operator credential, created once and written where `make run` can show it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from twinrail.api.domain.roles import Role
from twinrail.api.service.credentials import CredentialService, IssuedClient

__all__ = ["ensure_operator_credential", "OPERATOR_CREDENTIAL_FILE"]

OPERATOR_CREDENTIAL_FILE = "operator-credential.json"


def ensure_operator_credential(
    credentials: CredentialService, var_dir: Path
) -> IssuedClient | None:
    """Create an operator client if no client exists yet; its secret goes to a 0600 file.

    Returns the new credential (to show once), or None when clients already existed.
    """
    if credentials.has_clients():
        return None
    issued = credentials.create_client("operator (first run)", Role.OPERATOR)
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / OPERATOR_CREDENTIAL_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"client_id": issued.client.id, "client_secret": issued.client_secret}, out)
    return issued
