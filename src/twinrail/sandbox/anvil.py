"""The local EVM node: anvil from the npm package `@foundry-rs/anvil`, run as a child process.

`npm install` at the repository root puts the platform binary in
`node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil`; we start that binary directly (not the
node wrapper) so that stopping the child stops the node. Port 0 lets the kernel pick a free port,
which anvil reports on its "Listening on" line: no window for another process to take it.
"""

from __future__ import annotations

import collections
import os
import platform
import re
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

__all__ = ["AnvilError", "AnvilNode", "find_anvil_binary"]

_LISTENING = re.compile(r"Listening on ([\d.]+):(\d+)")
_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


class AnvilError(RuntimeError):
    """anvil is not installed, did not start, or did not stop."""

    code = "sandbox.anvil"


def _search_roots() -> list[Path]:
    roots = [Path.cwd(), *Path.cwd().parents]
    here = Path(__file__).resolve()
    roots += list(here.parents)
    return list(dict.fromkeys(roots))


def find_anvil_binary() -> Path:
    """The anvil executable: $TWINRAIL_ANVIL_BIN, else the npm package's platform binary."""
    explicit = os.environ.get("TWINRAIL_ANVIL_BIN")
    if explicit:
        return Path(explicit)
    system = platform.system().lower()
    arch = _ARCH.get(platform.machine().lower(), platform.machine().lower())
    relative = Path("node_modules/@foundry-rs") / f"anvil-{system}-{arch}" / "bin" / "anvil"
    for root in _search_roots():
        if (root / relative).is_file():
            return root / relative
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    raise AnvilError(
        "anvil not found: run `npm install` at the repository root "
        "(package.json depends on @foundry-rs/anvil) or set TWINRAIL_ANVIL_BIN"
    )


class AnvilNode:
    """One anvil process: `start()` waits until it listens; `stop()` ends it (TERM, then KILL)."""

    def __init__(
        self,
        *,
        chain_id: int = 31337,
        port: int = 0,
        host: str = "127.0.0.1",
        block_time: float | None = None,
        extra_args: tuple[str, ...] = (),
        binary: Path | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.host = host
        self.port = port
        self._requested_port = port
        self._block_time = block_time
        self._extra = extra_args
        self._binary = binary
        self._proc: subprocess.Popen[str] | None = None
        self._output: collections.deque[str] = collections.deque(maxlen=200)
        self._reader: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint (HTTP)."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def command(self) -> list[str]:
        """The command line this node runs."""
        cmd = [
            str(self._binary or find_anvil_binary()),
            "--host",
            self.host,
            "--port",
            str(self._requested_port),
            "--chain-id",
            str(self.chain_id),
        ]
        if self._block_time is not None:
            cmd += ["--block-time", str(self._block_time)]
        return cmd + list(self._extra)

    def start(self, timeout_s: float = 15.0) -> AnvilNode:
        """Start anvil and wait for its "Listening on" line."""
        if self.running:
            return self
        command = self.command()
        try:
            self._proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                bufsize=1,
                start_new_session=True,  # a Ctrl-C meant for us is ours to forward, not the node's
            )
        except OSError as exc:
            raise AnvilError(f"cannot run anvil at {command[0]}: {exc.strerror}") from None
        listening = threading.Event()
        self._reader = threading.Thread(target=self._drain, args=(listening,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout_s
        while not listening.wait(0.05):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                output = "\n".join(self._output)
                self.stop()
                raise AnvilError(f"anvil did not start on chain {self.chain_id}:\n{output}")
        return self

    def _drain(self, listening: threading.Event) -> None:
        # Keep reading for the node's whole life: a full pipe would block anvil's logging.
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            self._output.append(line.rstrip())
            match = _LISTENING.search(line)
            if match and not listening.is_set():
                self.port = int(match.group(2))
                listening.set()

    def output(self) -> str:
        """The node's recent output (last 200 lines)."""
        return "\n".join(self._output)

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """Stop the node and return its exit code (None if it was never started)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout_s)
        if self._reader is not None:
            self._reader.join(timeout_s)  # ends at EOF, now that the process has gone
            self._reader = None
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def wait(self) -> int:
        """Block until the node exits on its own."""
        if self._proc is None:
            raise AnvilError("anvil is not running")
        return self._proc.wait()

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
