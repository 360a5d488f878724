"""Bad input to the crypto rail: addresses (EIP-55), chains, tokens and amounts, as typed errors.

Address rule (as ethers' getAddress and most wallets apply EIP-55): a mixed-case address must
carry a valid checksum; an all-lowercase (or all-uppercase) one carries no checksum, so it is
accepted and normalised to its checksummed form. web3.py's stricter rule (refuse anything not
checksummed) would turn away addresses users copy from explorers that print them in lowercase,
without catching any more typos than the checksum does when it is present.
"""

from __future__ import annotations

import pytest

from twinrail.crypto.domain.addresses import checksum_address
from twinrail.crypto.domain.chains import Chain, ChainRegistry, Token
from twinrail.crypto.domain.charges import parse_amount
from twinrail.crypto.domain.errors import (
    CryptoRejection,
    InvalidAddress,
    InvalidAmount,
    UnknownChain,
    UnknownToken,
)

GOOD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own test vector


def test_a_checksummed_address_is_kept() -> None:
    assert checksum_address(GOOD) == GOOD


@pytest.mark.parametrize("spelling", [GOOD.lower(), "0x" + GOOD[2:].upper()])
def test_an_address_without_a_checksum_is_accepted_and_normalised(spelling: str) -> None:
    assert checksum_address(spelling) == GOOD


@pytest.mark.parametrize(
    "bad",
    [
        GOOD[:-1] + "D",  # one letter's case flipped: the checksum fails
        GOOD[:-1],  # 19.5 bytes
        GOOD + "00",  # 21 bytes
        "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",  # no 0x
        "0x" + "g" * 40,
        "",
    ],
)
def test_malformed_or_wrongly_checksummed_addresses_are_refused(bad: str) -> None:
    with pytest.raises(InvalidAddress) as caught:
        checksum_address(bad)
    assert caught.value.code == "crypto.invalid_address"
    assert isinstance(caught.value, CryptoRejection)


def test_a_token_listed_with_a_bad_address_is_refused_at_configuration() -> None:
    with pytest.raises(InvalidAddress):
        Token("USDC", GOOD[:-1] + "D", 6)


def test_unknown_chains_and_tokens_are_typed_rejections() -> None:
    chain = Chain(31337, "anvil", "http://127.0.0.1:8545", tokens=(Token("USDC", GOOD, 6),))
    registry = ChainRegistry([chain])
    with pytest.raises(UnknownChain) as no_chain:
        registry.get(1)
    assert no_chain.value.context == {"chain_id": 1}
    with pytest.raises(UnknownToken):
        chain.token("DAI")
    assert chain.token(GOOD.lower()).symbol == "USDC"  # by address, in any spelling


@pytest.mark.parametrize(
    ("amount", "decimals"), [("1.0000001", 6), ("0.1", 0), ("1.0000000000000000001", 18)]
)
def test_amounts_with_more_decimals_than_the_asset_are_refused(amount: str, decimals: int) -> None:
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(amount, decimals)
    assert caught.value.context["decimals"] == decimals
