"""Every compliance module declares what it exports, and exports exist."""

from __future__ import annotations

import importlib
import pkgutil

import twinrail.compliance


def test_every_module_has_an_all_that_names_real_members() -> None:
    for info in pkgutil.walk_packages(twinrail.compliance.__path__, "twinrail.compliance."):
        module = importlib.import_module(info.name)
        assert hasattr(module, "__all__"), info.name
        for name in module.__all__:
            assert hasattr(module, name), f"{info.name}.{name}"
