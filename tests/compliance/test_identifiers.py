"""Exact identifiers: IBANs, BICs and wallet addresses match whatever their spelling."""

from __future__ import annotations

import pytest

from twinrail.compliance.domain.entities import IdentifierKind
from twinrail.compliance.domain.errors import InvalidScreeningQuery
from twinrail.compliance.domain.identifiers import eip55_checksum, normalise_identifier
from twinrail.compliance.service.screening_service import ScreeningService


def test_ibans_are_compacted_and_checked() -> None:
    spaced = normalise_identifier(IdentifierKind.IBAN, "de89 3704 0044 0532 0130 00")
    assert spaced.value == "DE89370400440532013000"
    with pytest.raises(InvalidScreeningQuery, match="iban"):
        normalise_identifier(IdentifierKind.IBAN, "DE89 3704 0044 0532 0130 01")  # checksum


def test_an_eight_letter_bic_is_its_head_office_branch() -> None:
    assert normalise_identifier(IdentifierKind.BIC, "cobadeff").value == "COBADEFFXXX"
    assert normalise_identifier(IdentifierKind.BIC, "COBADEFFXXX").value == "COBADEFFXXX"
    with pytest.raises(InvalidScreeningQuery):
        normalise_identifier(IdentifierKind.BIC, "NOT A BIC")


def test_evm_addresses_take_their_eip55_checksum_form() -> None:
    # the EIP-55 specification's own examples
    for address in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    ):
        assert eip55_checksum(address.lower()) == address
        assert (
            normalise_identifier(IdentifierKind.WALLET, address.upper().replace("0X", "0x")).value
            == address
        )


def test_bech32_addresses_are_case_insensitive_and_others_are_kept_exact() -> None:
    upper = "BC1QA5WKGAEW2DKV56KFVJ49J0AV5NML45X9EK9HZ6"
    assert normalise_identifier(IdentifierKind.WALLET, upper).value == upper.lower()
    tron = "TXYZopYRdj2D9XRtbG411XZZ3kM5VkAeBf"
    assert normalise_identifier(IdentifierKind.WALLET, f" {tron} ").value == tron
    with pytest.raises(InvalidScreeningQuery):
        normalise_identifier(IdentifierKind.WALLET, "not a wallet")


def test_screening_finds_listed_wallets_ibans_and_bics_exactly(loaded: ScreeningService) -> None:
    wallet = loaded.screen_party(
        "", identifiers=[("wallet", "0x7f367cc41522ce07553e823bf3be79a889debe1b")]
    )
    assert [(h.list_name, h.entity_id, h.score) for h in wallet.hits] == [("ofac-sdn", "7521", 1.0)]
    assert wallet.hits[0].features[0].name == "wallet_match"
    held = loaded.screen_party(
        "", identifiers=[("wallet", "0x8589427373d6d84e98730d7795d8f6f8731fda16")]
    )
    assert {h.entity_id for h in held.hits} == {"NK-lazarus", "NK-wallet-1"}
    iban = loaded.screen_party("", identifiers=[("iban", "DE89370400440532013000")])
    assert [h.entity_id for h in iban.hits] == ["NK-account-1"]
    bic = loaded.screen_party("Some Customer", identifiers=[("bic", "DEUTDEFF")])
    assert [h.entity_id for h in bic.hits] == ["8845"]


def test_an_identifier_one_character_off_does_not_match(loaded: ScreeningService) -> None:
    near = "0x7f367cc41522ce07553e823bf3be79a889debe1c"
    assert not loaded.screen_party("", identifiers=[("wallet", near)]).matched
