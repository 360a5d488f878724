"""The labelled evaluation set: variants a screening must find, look-alikes it must not."""

from __future__ import annotations

import pytest

from twinrail.compliance.adapters.synthetic_lists import (
    evaluate,
    generate_people,
    labelled_queries,
    to_list,
)
from twinrail.compliance.domain.index import ScreeningIndex
from twinrail.compliance.domain.names import analyse_name
from twinrail.compliance.domain.results import ScreeningQuery


@pytest.fixture(scope="module")
def people():  # type: ignore[no-untyped-def]
    return list(generate_people(10_000, seed=3))


@pytest.fixture(scope="module")
def index(people) -> ScreeningIndex:  # type: ignore[no-untyped-def]
    return ScreeningIndex("synthetic", 1, 0.85, to_list(people))


def test_recall_is_at_least_95_percent_at_a_false_positive_rate_of_at_most_1_percent(
    people, index: ScreeningIndex
) -> None:
    queries = labelled_queries(people, 600, seed=5, look_alikes=6)

    def screen(q):  # type: ignore[no-untyped-def]
        query = ScreeningQuery(q.name, q.birth_date, q.country)
        return [h.entity_id for h in index.screen(query)]

    result = evaluate(screen, queries)
    assert result["negatives"] >= 500 and result["positives"] >= 2500
    assert {"original_script", "reordered", "typo", "initial", "missing_middle", "alias"} <= set(
        result["by_variant"]
    )
    assert result["recall"] >= 0.95, result
    assert result["fp_rate"] <= 0.01, result


def test_a_screening_scores_a_bounded_number_of_candidates_not_the_whole_list(
    people, index: ScreeningIndex
) -> None:
    for person in people[:50]:
        candidates = index.candidates(analyse_name(person.entity.names[0]))
        assert 0 < len(candidates) <= 4 * index.candidate_limit
