"""Name matching on the published lists: scripts, order, initials, typos, aliases, facts."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.compliance.conftest import EU, FTM, OFAC, UN
from twinrail.compliance.adapters.list_files import read_list
from twinrail.compliance.domain.errors import InvalidScreeningQuery
from twinrail.compliance.domain.index import ScreeningIndex
from twinrail.compliance.domain.query import build_query
from twinrail.compliance.domain.results import ScreeningHit

TODAY = dt.date(2026, 11, 25)


@pytest.fixture(scope="module")
def indexes() -> list[ScreeningIndex]:
    return [
        ScreeningIndex(fmt, 1, 0.85, read_list(fmt, path))
        for fmt, path in (("ofac-sdn", OFAC), ("eu-fsf", EU), ("un-sc", UN), ("ftm", FTM))
    ]


def screen(indexes: list[ScreeningIndex], name: str, **facts: object) -> list[ScreeningHit]:
    query = build_query(name, today=TODAY, **facts)  # type: ignore[arg-type]
    return sorted((h for i in indexes for h in i.screen(query)), key=lambda h: -h.score)


def top(indexes: list[ScreeningIndex], name: str, **facts: object) -> ScreeningHit:
    hits = screen(indexes, name, **facts)
    assert hits, f"no hit for {name!r}"
    return hits[0]


def features(hit: ScreeningHit) -> set[str]:
    return {f.name for f in hit.features}


@pytest.mark.parametrize(
    ("name", "entity_id"),
    [
        ("Алексей Миллер", "EU.8311.12"),  # Cyrillic, middle name missing
        ("Виктор Бут", "NK-2fhGSiKu9TS4UvoBmPVCQe"),
        ("Γεώργιος Παπαδόπουλος", "NK-greek-1"),  # Greek
        ("صدام حسين", "EU.27.28"),  # Arabic, against the Latin-script entry
        ("عبد الرحمن ياسين", "110391"),
    ],
)
def test_finds_names_written_in_other_scripts(
    indexes: list[ScreeningIndex], name: str, entity_id: str
) -> None:
    hit = top(indexes, name)
    assert hit.entity_id == entity_id
    assert "transliterated" in features(hit) or hit.matched_name == name


def test_finds_reordered_name_parts(indexes: list[ScreeningIndex]) -> None:
    hit = top(indexes, "KARPOV, Dmitri Vladimirovich")
    assert hit.entity_id == "7521" and hit.score == pytest.approx(1.0)
    assert "reordered" in features(hit)


def test_finds_initials_and_missing_middle_names(indexes: list[ScreeningIndex]) -> None:
    assert top(indexes, "D. Karpov").entity_id == "7521"
    hit = top(indexes, "Dmitri Karpov")
    assert hit.entity_id == "7521" and "missing_part" not in features(hit)  # the alias matches
    hit = top(indexes, "Alexei Miller")
    assert hit.entity_id == "EU.8311.12" and "missing_part" in features(hit)


def test_finds_typos_and_explains_them(indexes: list[ScreeningIndex]) -> None:
    hit = top(indexes, "Dmitri Vladimirovich Karpow")
    assert hit.entity_id == "7521"
    typo = next(f for f in hit.features if f.name == "typo")
    assert typo.detail == "karpow~karpov" and typo.effect < 0


def test_finds_aliases_and_marks_weak_ones(indexes: list[ScreeningIndex]) -> None:
    hit = top(indexes, "Hidden Cobra")
    assert (hit.entity_id, hit.matched_name) == ("NK-lazarus", "Hidden Cobra")
    assert "alias" in features(hit)
    weak = top(indexes, "Merchant of Death")
    assert "weak_alias" in features(weak) and weak.score < 1.0


def test_a_matching_birth_date_and_country_raise_the_score(indexes: list[ScreeningIndex]) -> None:
    plain = top(indexes, "Alexei Miller").score
    with_facts = top(indexes, "Alexei Miller", birth_date="1962-01-31", country="Russia")
    assert with_facts.score > plain
    assert {"birth_date_match", "country_match"} <= features(with_facts)


def test_a_different_birth_date_or_country_lowers_the_score_below_the_threshold(
    indexes: list[ScreeningIndex],
) -> None:
    assert screen(indexes, "Alexei Miller", birth_date="1990-05-05") == []
    hit = top(indexes, "Alexei Miller", country="RU")
    lowered = screen(indexes, "Alexei Borisovich Miller", country="FR")[0]
    assert lowered.score < 1.0 and "country_mismatch" in features(lowered)
    assert hit.entity_id == lowered.entity_id


def test_look_alike_names_do_not_hit(indexes: list[ScreeningIndex]) -> None:
    for name in ("Dmitri Petrov", "Alexei Millerman", "Viktor Bolt", "Georgios Papadakis"):
        assert screen(indexes, name) == [], name


def test_each_list_has_its_own_threshold() -> None:
    entities = read_list("eu-fsf", EU)
    strict = ScreeningIndex("eu-fsf", 1, 0.99, entities)
    lenient = ScreeningIndex("eu-fsf", 1, 0.80, entities)
    query = build_query("Alexei Miller", today=TODAY)
    assert strict.screen(query) == []
    assert [h.threshold for h in lenient.screen(query)] == [0.80]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "   "}, "name"),
        ({"name": "-- !! --"}, "name"),
        ({"name": "x" * 400}, "too long"),
        ({"name": "Ivan", "birth_date": "1850-01-01"}, "absurd"),
        ({"name": "Ivan", "birth_date": "2030-01-01"}, "absurd"),
        ({"name": "Ivan", "birth_date": "31/12/1970"}, "YYYY-MM-DD"),
        ({"name": "Ivan", "country": "Atlantis"}, "unknown country"),
        ({"name": "", "identifiers": [("iban", "DE00 0000")]}, "iban"),
    ],
)
def test_bad_queries_get_clear_errors(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidScreeningQuery, match=message) as error:
        build_query(today=TODAY, **kwargs)
    assert error.value.code == "compliance.screening.invalid_query"


def test_a_name_in_any_script_is_screened_without_error(indexes: list[ScreeningIndex]) -> None:
    for name in ("李明", "山田太郎", "Ω", "🙂 Smith", "Ñúñez-Öztürk", "리원호"):
        screen(indexes, name)
    assert top(indexes, "리원호").entity_id == "6908555"
