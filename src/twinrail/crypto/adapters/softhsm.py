"""A project-local SoftHSM2: its config file, token directory and token initialisation.

SoftHSM2 reads `SOFTHSM2_CONF` when the PKCS#11 library is initialised, so `activate` must run
before the first `pkcs11.lib(...)` in a process. PINs reach `softhsm2-util` through a pseudo
terminal, never its command line (which any local user could read in /proc).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from twinrail.crypto.domain.errors import KeyStoreUnavailable

__all__ = ["SoftHsm", "DEFAULT_MODULE"]

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class SoftHsm:
    """A SoftHSM2 installation rooted at `directory` (config at <dir>/softhsm2.conf)."""

    directory: Path
    util: str = "softhsm2-util"

    @property
    def config_path(self) -> Path:
        return self.directory / "softhsm2.conf"

    @property
    def token_dir(self) -> Path:
        return self.directory / "tokens"

    def write_config(self) -> Path:
        """Create the token directory and a config pointing at it (idempotent)."""
        self.token_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.config_path.write_text(
            f"directories.tokendir = {self.token_dir.resolve()}\n"
            "objectstore.backend = file\n"
            "log.level = ERROR\n"
            "slots.removable = false\n"
        )
        return self.config_path

    def env(self) -> dict[str, str]:
        """The environment for processes that should see this SoftHSM."""
        return {**os.environ, "SOFTHSM2_CONF": str(self.config_path.resolve())}

    def activate(self) -> None:
        """Point this process's SoftHSM2 at this directory (before the library is loaded)."""
        if not self.config_path.exists():
            self.write_config()
        os.environ["SOFTHSM2_CONF"] = str(self.config_path.resolve())

    def _util(self) -> str:
        found = shutil.which(self.util)
        if found is None:
            raise KeyStoreUnavailable(
                "softhsm2-util not found (apt-get install -y softhsm2)", util=self.util
            )
        return found

    def token_labels(self) -> list[str]:
        """Labels of the initialised tokens."""
        out = subprocess.run(
            [self._util(), "--show-slots"],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=_TIMEOUT_S,
            check=True,
        ).stdout
        labels: list[str] = []
        initialised = False
        for line in out.splitlines():
            stripped = line.strip()
            if stripped.startswith("Initialized:"):
                initialised = stripped.endswith("yes")
            elif stripped.startswith("Label:") and initialised:
                labels.append(stripped.removeprefix("Label:").strip())
        return labels

    def init_token(self, label: str, so_pin: str, user_pin: str) -> bool:
        """Initialise a token `label` in a free slot; False when it already exists."""
        if not re.fullmatch(r"[\w .-]{1,32}", label):
            raise ValueError("token label must be 1-32 word characters, spaces, dots or dashes")
        for pin in (so_pin, user_pin):
            if not 4 <= len(pin) <= 255 or "\n" in pin:
                raise ValueError("PINs must be 4 to 255 characters on one line")
        self.write_config()
        if label in self.token_labels():
            return False
        master, slave = os.openpty()
        try:
            proc = subprocess.Popen(
                [self._util(), "--init-token", "--free", "--label", label],
                stdin=slave,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self.env(),
            )
            os.close(slave)
            slave = -1
            # softhsm2-util asks for the SO PIN twice, then the user PIN twice, on its terminal.
            os.write(master, f"{so_pin}\n{so_pin}\n{user_pin}\n{user_pin}\n".encode())
            out, err = proc.communicate(timeout=_TIMEOUT_S)
        finally:
            os.close(master)
            if slave >= 0:
                os.close(slave)
        if proc.returncode != 0 or b"has been initialized" not in out:
            # The tool only echoes '*' for PIN characters, so its output is safe to report.
            raise KeyStoreUnavailable(
                "softhsm2-util could not initialise the token",
                label=label,
                output=(out + err).decode(errors="replace").strip()[-400:],
            )
        return True
