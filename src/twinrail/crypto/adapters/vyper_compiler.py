"""Compile the project's Vyper contracts with the `vyper` package."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["CompiledContract", "compile_contract", "default_contracts_dir"]


@dataclass(frozen=True)
class CompiledContract:
    """A contract's ABI and creation bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes


def default_contracts_dir() -> Path:
    """`contracts/` at the repository root (src layout), else in the working directory."""
    repo_root = Path(__file__).resolve().parents[4]
    candidate = repo_root / "contracts"
    return candidate if candidate.is_dir() else Path.cwd() / "contracts"


@functools.lru_cache(maxsize=8)
def _compile(path: Path, mtime_ns: int) -> CompiledContract:  # noqa: ARG001 - cache key
    import vyper  # imported here: the compiler takes a second to load

    out = vyper.compile_code(path.read_text(), output_formats=["abi", "bytecode"])
    return CompiledContract(
        name=path.stem, abi=out["abi"], bytecode=bytes.fromhex(out["bytecode"].removeprefix("0x"))
    )


def compile_contract(name: str, contracts_dir: Path | None = None) -> CompiledContract:
    """Compile `<contracts_dir>/<name>.vy` (cached per file version)."""
    path = (contracts_dir or default_contracts_dir()) / f"{name}.vy"
    if not path.is_file():
        raise FileNotFoundError(f"no contract source at {path}")
    return _compile(path.resolve(), path.stat().st_mtime_ns)
