"""Fixtures for the crypto rail: real anvil nodes, a real SoftHSM2 token, software keys.

anvil comes from `npm install` at the repository root and SoftHSM2 from Debian's `softhsm2`.
Without them the tests skip locally and fail in CI, where both must be installed.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.crypto.watcher_support import deploy_token
from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.adapters.softhsm import DEFAULT_MODULE, SoftHsm
from twinrail.crypto.adapters.software_keystore import SoftwareKeyStore
from twinrail.crypto.domain.chains import Token
from twinrail.crypto.service.ports import KeyStore
from twinrail.sandbox.anvil import AnvilError, AnvilNode, find_anvil_binary

HSM_TOKEN = "twinrail-test"
HSM_PIN = "test-user-pin-0815"
HSM_SO_PIN = "test-so-pin-4711"
PASSPHRASE = "correct horse battery staple"
FAST_SCRYPT_N = 2**10  # tests only: production uses 2**15 or more


def require_tool(available: bool, name: str) -> None:
    """Skip without the tool locally; fail in CI, where every tool must be installed."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{name} is mandatory in CI but is not installed")
    pytest.skip(f"{name} not installed")


def _anvil_installed() -> bool:
    try:
        return find_anvil_binary().is_file()
    except AnvilError:
        return False


@pytest.fixture(scope="session")
def anvil_binary() -> Path:
    require_tool(_anvil_installed(), "anvil (npm install @foundry-rs/anvil)")
    return find_anvil_binary()


@pytest.fixture
def anvil(anvil_binary: Path) -> Iterator[AnvilNode]:
    """A fresh anvil on a free port, chain id 31337."""
    with AnvilNode(chain_id=31337, binary=anvil_binary) as node:
        yield node


@pytest.fixture
def client(anvil: AnvilNode) -> Web3ChainClient:
    """A JSON-RPC client of the `anvil` node."""
    return Web3ChainClient(anvil.url, timeout_s=5)


@pytest.fixture
def token(client: Web3ChainClient) -> Token:
    """The project's StableToken, freshly deployed on the node as 6-decimal USDC."""
    return Token("USDC", deploy_token(client), 6)


@pytest.fixture
def two_anvils(anvil_binary: Path) -> Iterator[tuple[AnvilNode, AnvilNode]]:
    """Two anvils at once with different chain ids (31337 and 31338)."""
    with (
        AnvilNode(chain_id=31337, binary=anvil_binary) as first,
        AnvilNode(chain_id=31338, binary=anvil_binary) as second,
    ):
        yield first, second


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    """A SoftHSM2 of this test session's own with an initialised token; the process uses it."""
    require_tool(
        shutil.which("softhsm2-util") is not None and os.path.exists(DEFAULT_MODULE),
        "SoftHSM2 (apt-get install -y softhsm2)",
    )
    hsm = SoftHsm(tmp_path_factory.mktemp("softhsm"))
    hsm.init_token(HSM_TOKEN, so_pin=HSM_SO_PIN, user_pin=HSM_PIN)
    hsm.activate()  # before the PKCS#11 library is first loaded in this process
    return hsm


@pytest.fixture(scope="session")
def hsm_store(softhsm: SoftHsm) -> Iterator[KeyStore]:  # noqa: ARG001 - activates it
    from twinrail.crypto.adapters.pkcs11_keystore import Pkcs11KeyStore

    store = Pkcs11KeyStore(DEFAULT_MODULE, HSM_TOKEN, HSM_PIN)
    yield store
    store.close()


@pytest.fixture
def software_store(tmp_path: Path) -> Iterator[KeyStore]:
    store = SoftwareKeyStore(tmp_path / "keys", PASSPHRASE, scrypt_n=FAST_SCRYPT_N)
    yield store
    store.close()


@pytest.fixture(params=["pkcs11", "software"])
def key_store(request: pytest.FixtureRequest) -> KeyStore:
    """Each key store in turn: the same tests must pass for both."""
    name = "hsm_store" if request.param == "pkcs11" else "software_store"
    store: KeyStore = request.getfixturevalue(name)
    return store
