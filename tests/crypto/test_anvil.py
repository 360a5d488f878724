"""The anvil launcher: a real node from the npm package, on a free port, stopped cleanly."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from twinrail.crypto.adapters.evm_rpc import Web3ChainClient
from twinrail.crypto.domain.errors import NodeUnavailable
from twinrail.sandbox.anvil import AnvilError, AnvilNode


def _port_is_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_starts_on_a_free_port_with_the_chosen_chain_id(anvil_binary: Path) -> None:
    with AnvilNode(chain_id=4242, binary=anvil_binary) as node:
        assert node.port > 0 and _port_is_open(node.port)
        client = Web3ChainClient(node.url, timeout_s=5)
        assert client.chain_id() == 4242
        assert client.block_number() == 0


def test_two_nodes_run_at_once_with_different_chain_ids(
    two_anvils: tuple[AnvilNode, AnvilNode],
) -> None:
    first, second = two_anvils
    assert first.port != second.port
    assert Web3ChainClient(first.url).chain_id() == 31337
    assert Web3ChainClient(second.url).chain_id() == 31338


def test_stop_ends_the_process_and_frees_the_port(anvil_binary: Path) -> None:
    node = AnvilNode(binary=anvil_binary).start()
    port, url = node.port, node.url
    assert node.stop() is not None
    assert not node.running
    assert not _port_is_open(port)
    with pytest.raises(NodeUnavailable):
        Web3ChainClient(url, timeout_s=2).chain_id()


def test_stopping_twice_or_never_started_is_harmless(anvil_binary: Path) -> None:
    node = AnvilNode(binary=anvil_binary)
    assert node.stop() is None
    node.start()
    node.stop()
    assert node.stop() is None


def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AnvilError, match="cannot run anvil"):
        AnvilNode(binary=tmp_path / "no-anvil-here").start()


def test_a_node_that_cannot_listen_reports_its_output(anvil_binary: Path) -> None:
    with AnvilNode(binary=anvil_binary) as node:
        taken = AnvilNode(port=node.port, binary=anvil_binary)
        with pytest.raises(AnvilError, match="did not start"):
            taken.start(timeout_s=5)
        assert not taken.running
