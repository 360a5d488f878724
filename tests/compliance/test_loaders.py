"""Reading the published list formats, and refusing files that are not what they claim."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.compliance.conftest import EU, FTM, OFAC, UN
from twinrail.compliance.adapters.list_files import read_list
from twinrail.compliance.domain.entities import EntityKind, Identifier, IdentifierKind
from twinrail.compliance.domain.errors import (
    DuplicateEntityId,
    ListFileError,
    MalformedListFile,
    UnknownListFormat,
    WrongListSchema,
)


def by_id(fmt: str, path: Path) -> dict:
    return {e.entity_id: e for e in read_list(fmt, path)}


def test_reads_an_ofac_sdn_file_with_aliases_dates_countries_and_wallets() -> None:
    entities = by_id("ofac-sdn", OFAC)
    assert set(entities) == {"36", "7521", "8845", "9100"}
    karpov = entities["7521"]
    assert karpov.kind is EntityKind.PERSON
    assert karpov.names == ("Dmitri Vladimirovich KARPOV", "Dmitry KARPOV")
    assert karpov.weak_aliases == ("DIMA K",)
    assert karpov.birth_dates == ("1972-10-07",)
    assert karpov.countries == ("RU",)
    assert Identifier(IdentifierKind.WALLET, "0x7F367cC41522cE07553e823bf3be79A889DEbe1B") in (
        karpov.identifiers
    )
    assert entities["8845"].identifiers == (Identifier(IdentifierKind.BIC, "DEUTDEFFXXX"),)
    assert entities["9100"].kind is EntityKind.VESSEL
    assert entities["36"].programs == ("CUBA",)


def test_reads_an_eu_consolidated_file_with_original_script_names_and_bics() -> None:
    entities = by_id("eu-fsf", EU)
    miller = entities["EU.8311.12"]
    assert "Алексей Борисович Миллер" in miller.names
    assert miller.birth_dates == ("1962-01-31",)
    assert entities["EU.27.28"].weak_aliases == ("Abu Ali",)
    assert entities["EU.9002.55"].identifiers == (Identifier(IdentifierKind.BIC, "COBADEFFXXX"),)
    assert entities["EU.9002.55"].kind is EntityKind.ORGANIZATION


def test_reads_a_un_consolidated_file_with_individuals_and_entities() -> None:
    entities = by_id("un-sc", UN)
    assert entities["6908555"].names == ("RI WON HO", "리원호")
    assert entities["6908555"].countries == ("KP", "SY")
    assert entities["110391"].birth_dates == ("1960",)
    assert entities["110391"].weak_aliases == ("Aboud Yasin",)
    assert entities["6908429"].kind is EntityKind.ORGANIZATION


def test_reads_ftm_entities_and_folds_wallets_and_sanctions_into_their_holder() -> None:
    entities = by_id("ftm", FTM)
    lazarus = entities["NK-lazarus"]
    assert lazarus.identifiers == (
        Identifier(IdentifierKind.WALLET, "0x8589427373D6D84E98730D7795D8f6f8731FDA16"),
    )
    assert lazarus.programs == ("DPRK3",)
    assert "NK-sanction-1" not in entities  # a Sanction is not a party
    account = entities["NK-account-1"]
    assert Identifier(IdentifierKind.IBAN, "DE89370400440532013000") in account.identifiers
    assert entities["NK-2fhGSiKu9TS4UvoBmPVCQe"].weak_aliases == ("Merchant of Death",)


def test_refuses_truncated_xml(tmp_path: Path) -> None:
    text = OFAC.read_text()
    broken = tmp_path / "sdn.xml"
    broken.write_text(text[: len(text) // 2])
    with pytest.raises(MalformedListFile) as error:
        read_list("ofac-sdn", broken)
    assert error.value.code == "compliance.list.malformed"
    assert error.value.context["line"] > 1


def test_refuses_a_file_of_another_format() -> None:
    with pytest.raises(WrongListSchema, match="sdnList"):
        read_list("ofac-sdn", EU)
    with pytest.raises(WrongListSchema):
        read_list("un-sc", OFAC)


def test_refuses_json_lines_that_are_not_ftm_entities(tmp_path: Path) -> None:
    other = tmp_path / "other.json"
    other.write_text('{"id": "x", "schema": "Starship", "properties": {}}\n')
    with pytest.raises(WrongListSchema, match="Starship"):
        read_list("ftm", other)
    other.write_text('{"id": "x", "schema": "Person", "properties": {"warpSpeed": ["9"]}}\n')
    with pytest.raises(WrongListSchema, match="warpSpeed"):
        read_list("ftm", other)
    other.write_text('{"name": "just some json"}\n')
    with pytest.raises(WrongListSchema):
        read_list("ftm", other)


def test_refuses_a_truncated_json_line(tmp_path: Path) -> None:
    lines = FTM.read_text().splitlines()
    broken = tmp_path / "entities.ftm.json"
    broken.write_text("\n".join([*lines[:2], lines[2][:40]]))
    with pytest.raises(MalformedListFile) as error:
        read_list("ftm", broken)
    assert error.value.context["line"] == 3


def test_refuses_duplicate_entity_ids_in_xml_and_ftm(tmp_path: Path) -> None:
    sdn = tmp_path / "sdn.xml"
    sdn.write_text(OFAC.read_text().replace("<uid>8845</uid>", "<uid>36</uid>"))
    with pytest.raises(DuplicateEntityId) as error:
        read_list("ofac-sdn", sdn)
    assert error.value.context["entity_id"] == "36"
    ftm = tmp_path / "entities.ftm.json"
    first = FTM.read_text().splitlines()[0]
    ftm.write_text(first + "\n" + first + "\n")
    with pytest.raises(DuplicateEntityId):
        read_list("ftm", ftm)


def test_refuses_unknown_formats_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(UnknownListFormat, match="ofac-sdn, eu-fsf, un-sc, ftm"):
        read_list("csv", OFAC)
    with pytest.raises(ListFileError):
        read_list("ftm", tmp_path / "absent.json")


def test_reports_progress_in_bytes() -> None:
    seen: list[tuple[int, int]] = []
    read_list("un-sc", UN, lambda done, total: seen.append((done, total)))
    assert seen[-1] == (UN.stat().st_size, UN.stat().st_size)
