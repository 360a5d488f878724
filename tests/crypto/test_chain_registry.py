"""The chain registry comes from configuration and refuses what it does not list."""

from __future__ import annotations

import json

import pytest

from twinrail.crypto.domain.chains import FinalitySource
from twinrail.crypto.domain.errors import InvalidAddress, UnknownChain, UnknownToken
from twinrail.crypto.settings import CryptoSettings

USDC = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def _two_chains() -> str:
    return json.dumps(
        [
            {
                "chain_id": 31337,
                "name": "local-a",
                "rpc_url": "http://127.0.0.1:8545",
                "confirmations": 2,
                "tokens": [{"symbol": "USDC", "address": USDC.lower(), "decimals": 6}],
            },
            {
                "chain_id": 31338,
                "name": "local-b",
                "rpc_url": "http://127.0.0.1:8546",
                "confirmations": 12,
                "finality": "finalized",
            },
        ]
    )


def test_the_embedded_default_is_one_local_anvil_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TWINRAIL_CRYPTO_CHAINS", raising=False)
    chain = CryptoSettings().default_chain()
    assert (chain.chain_id, chain.rpc_url) == (31337, "http://127.0.0.1:8545")
    assert (chain.native.symbol, chain.native.decimals) == ("ETH", 18)
    assert chain.finality is FinalitySource.DEPTH


def test_chains_and_tokens_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINRAIL_CRYPTO_CHAINS", _two_chains())
    registry = CryptoSettings().registry()
    assert [c.chain_id for c in registry] == [31337, 31338]
    token = registry.get(31337).token("usdc")
    assert (token.address, token.decimals) == (USDC, 6)  # stored checksummed
    assert registry.get(31337).token(USDC.lower()) == token
    assert registry.get(31338).finality is FinalitySource.FINALIZED
    assert registry.get(31338).confirmations == 12


def test_an_unknown_chain_or_token_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINRAIL_CRYPTO_CHAINS", _two_chains())
    registry = CryptoSettings().registry()
    with pytest.raises(UnknownChain) as chain_error:
        registry.get(1)
    assert chain_error.value.code == "crypto.unknown_chain"
    with pytest.raises(UnknownToken):
        registry.get(31338).token("USDC")


def test_a_token_address_with_a_broken_checksum_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = USDC[:4] + USDC[4].swapcase() + USDC[5:]  # still mixed case, checksum now wrong
    chains = json.loads(_two_chains())
    chains[0]["tokens"][0]["address"] = bad
    monkeypatch.setenv("TWINRAIL_CRYPTO_CHAINS", json.dumps(chains))
    with pytest.raises(InvalidAddress):
        CryptoSettings().registry()


def test_secrets_never_appear_in_the_settings_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWINRAIL_CRYPTO_HSM_PIN", "s3cret-pin-123")
    monkeypatch.setenv("TWINRAIL_CRYPTO_KEY_PASSPHRASE", "s3cret-passphrase")
    settings = CryptoSettings()
    shown = repr(settings) + str(settings.model_dump())
    assert "s3cret" not in shown
    assert settings.hsm_pin.get_secret_value() == "s3cret-pin-123"


def test_fee_caps_and_timeouts_come_from_the_chain_config(monkeypatch: pytest.MonkeyPatch) -> None:
    chains = json.loads(_two_chains())
    chains[1].update(max_fee_cap_wei=10**16, priority_fee_percentile=75, rpc_timeout_s=3)
    monkeypatch.setenv("TWINRAIL_CRYPTO_CHAINS", json.dumps(chains))
    config = CryptoSettings().chains[1]
    policy = config.fee_policy()
    assert (policy.max_fee_cap, policy.priority_percentile) == (10**16, 75)
    assert config.to_domain().rpc_timeout_s == 3
