"""Every public package of this slice exports exactly what its `__all__` lists."""

from __future__ import annotations

import importlib

import pytest

PACKAGES = [
    "twinrail.openbanking.domain",
    "twinrail.openbanking.service",
    "twinrail.sandbox.bank.domain",
    "twinrail.sandbox.bank.service",
    "twinrail.sandbox.bank.store",
    "twinrail.sandbox.bank.http",
]


@pytest.mark.parametrize("name", PACKAGES)
def test_all_names_exist_and_are_sorted(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.{member}"
