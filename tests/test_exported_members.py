"""Every module of the package declares what it exports, and exports only what exists."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import twinrail

_SKIP = ("twinrail.platform.migrations",)  # Alembic scripts, loaded by path


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(twinrail.__path__, "twinrail."):
        if info.ispkg or info.name.startswith(_SKIP) or info.name.split(".")[-1] == "__main__":
            continue
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_module_declares_its_public_names(name: str):
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    if name.startswith("twinrail.cli."):
        return  # command modules export typer apps by convention, checked by their tests
    assert exported is not None, f"{name} has no __all__"
    missing = [member for member in exported if not hasattr(module, member)]
    assert not missing, f"{name}.__all__ names what it does not define: {missing}"
