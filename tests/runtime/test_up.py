"""`twinrail up` (what `make run` runs): everything starts on the embedded default, the printed
curl lines work as printed, and Ctrl-C leaves no child behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from twinrail.cli.run_cli import READY_LINE


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(p) for p in path.read_text().split()} if path.exists() else set()


def _alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return False
    return "State:\tZ" not in status.read_text()  # a zombie has exited


class _Output:
    """Collects the process's stdout on a thread, so waiting never blocks on a read."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, process: subprocess.Popen[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.lines:
            assert process.poll() is None, "\n".join(self.lines)
            assert time.monotonic() < deadline, "\n".join(self.lines)
            time.sleep(0.1)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.skipif(shutil.which("curl") is None, reason="runs the printed curl lines")
def test_up_starts_everything_its_curl_lines_work_as_printed_and_ctrl_c_stops_all(
    tmp_path: Path,
) -> None:
    ports = {"--port": _free_port(), "--bank-port": _free_port(), "--chain-port": _free_port()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINRAIL_")}
    env["TWINRAIL_VAR_DIR"] = str(tmp_path / "var")
    args = [arg for flag, port in ports.items() for arg in (flag, str(port))]
    process = subprocess.Popen(
        [sys.executable, "-m", "twinrail.cli.main", "up", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )  # fmt: skip
    output = _Output(process)
    try:
        output.wait_for(READY_LINE, process, timeout=120)
        children = _children(process.pid)
        commands = {Path(f"/proc/{c}/cmdline").read_text().replace("\0", " ") for c in children}
        for part in ("anvil", " worker", " serve ", " sandbox-bank "):
            assert any(part in c for c in commands), commands

        curl_lines = [line for line in output.lines if line.startswith("curl ")]
        assert len(curl_lines) == 6
        answers = []
        for line in curl_lines:
            ran = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=30)
            assert ran.returncode == 0, (line, ran.stdout, ran.stderr)
            answers.append(json.loads(ran.stdout))
        ready, token, customer, account, order, balance = answers
        assert ready["status"] == "ready" and token["token_type"] == "Bearer"
        assert customer["name"] == "Grace Hopper" and account["asset"] == "EUR"
        assert order["state"] == "completed"
        assert balance["available"] == "2500"

        # the operator credential was shown once and kept in a file only its owner reads
        credential = tmp_path / "var" / "operator-credential.json"
        assert credential.stat().st_mode & 0o077 == 0
        secret = json.loads(credential.read_text())["client_secret"]
        assert any(secret in line for line in output.lines)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(60)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, "\n".join(output.lines)
    assert output.lines[-1] == "stopped"
    assert not [c for c in children if _alive(c)], "children left running"
