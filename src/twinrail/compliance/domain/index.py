"""An in-memory index of one list version, so that a screening looks at a few names, not all.

Blocking: every distinct name token of the list is in a vocabulary; the vocabulary is reachable
by the token itself, by each of its one-letter deletions (SymSpell: any single insertion,
deletion, substitution or transposition meets on a shared key) and by its consonant skeleton
(spelling variants, abjad transliterations). Each vocabulary token has a posting list of the
name records that contain it. A query token collects the vocabulary tokens it is similar to and
adds its similarity (times a small rarity factor) to every name in their postings; only the
`candidate_limit` best names (ties at the cut kept, up to three times as many) are then scored
in full (`matching.score_name`). Cost is bounded by the posting lengths of the query's tokens
(very common tokens only update names already found) and the candidate limit, not by the list
size.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Iterable
from operator import itemgetter

from twinrail.compliance.domain.entities import EntityKind, Identifier, ListEntity
from twinrail.compliance.domain.matching import (
    MIN_TOKEN_SIMILARITY,
    birth_date_adjustment,
    country_adjustment,
    score_name,
    token_similarity,
)
from twinrail.compliance.domain.names import NameForm, abjad_variants, analyse_name, skeleton
from twinrail.compliance.domain.results import MatchFeature, ScreeningHit, ScreeningQuery

__all__ = ["ScreeningIndex", "WEAK_ALIAS_FACTOR"]

WEAK_ALIAS_FACTOR = 0.95
_UNNAMED_KINDS = frozenset({EntityKind.WALLET, EntityKind.ACCOUNT})


def _deletions(token: str) -> set[str]:
    return {token[:i] + token[i + 1 :] for i in range(len(token))} if len(token) >= 4 else set()


class ScreeningIndex:
    """Entities of one list version, indexed by name tokens and by exact identifiers."""

    def __init__(
        self,
        list_name: str,
        version: int,
        threshold: float,
        entities: Iterable[ListEntity] = (),
        *,
        candidate_limit: int = 16,
        common_posting: int = 2000,
    ) -> None:
        self.list_name = list_name
        self.version = version
        self.threshold = threshold
        self.candidate_limit = candidate_limit
        self.common_posting = common_posting
        self.entities: list[ListEntity] = []
        self._by_id: dict[str, int] = {}
        # name records: (entity index, analysed name, weak alias?)
        self._names: list[tuple[int, NameForm, bool]] = []
        self._vocab: dict[str, int] = {}
        self._tokens: list[str] = []
        self._postings: list[array[int]] = []
        self._keys: dict[str, list[int]] = {}
        self._by_identifier: dict[Identifier, list[int]] = {}
        self._birth_years: list[frozenset[int]] = []
        self._countries: list[frozenset[str]] = []
        for entity in entities:
            self.add(entity)

    def __len__(self) -> int:
        return len(self.entities)

    def add(self, entity: ListEntity) -> None:
        """Index one entity (ids are unique per version; the loaders check that)."""
        index = len(self.entities)
        self.entities.append(entity)
        self._by_id[entity.entity_id] = index
        self._birth_years.append(
            frozenset(int(d[:4]) for d in entity.birth_dates if d[:4].isdigit())
        )
        self._countries.append(frozenset(entity.countries))
        for identifier in entity.identifiers:
            self._by_identifier.setdefault(identifier, []).append(index)
        if entity.kind in _UNNAMED_KINDS:
            return
        for names, weak in ((entity.names, False), (entity.weak_aliases, True)):
            for name in names:
                form = analyse_name(name)
                if form.tokens:
                    self._add_name(index, form, weak)

    def _add_name(self, entity_index: int, form: NameForm, weak: bool) -> None:
        record = len(self._names)
        self._names.append((entity_index, form, weak))
        for token in set(form.tokens):
            token_id = self._vocab.get(token)
            if token_id is None:
                token_id = self._new_token(token)
            self._postings[token_id].append(record)

    def _new_token(self, token: str) -> int:
        token_id = len(self._tokens)
        self._vocab[token] = token_id
        self._tokens.append(token)
        self._postings.append(array("i"))
        keys = {token} | _deletions(token)
        sk = skeleton(token)
        if len(sk) >= 2:
            keys.add("#" + sk)
        for key in keys:
            self._keys.setdefault(key, []).append(token_id)
        return token_id

    def entity(self, entity_id: str) -> ListEntity | None:
        """The entity with that id in this version, if any."""
        index = self._by_id.get(entity_id)
        return None if index is None else self.entities[index]

    def _best_cost(self, similar: dict[int, float]) -> int:
        top = max(similar.values())
        return sum(len(self._postings[t]) for t, sim in similar.items() if sim == top)

    def _similar_tokens(self, token: str, abjad: bool) -> dict[int, float]:
        keys: set[str] = set()
        for variant in abjad_variants(token) if abjad else (token,):
            keys |= {variant} | _deletions(variant)
            sk = skeleton(variant)
            if len(sk) >= (2 if abjad else 3):
                keys.add("#" + sk)
        found: dict[int, float] = {}
        for key in keys:
            for token_id in self._keys.get(key, ()):
                if token_id not in found:
                    found[token_id] = token_similarity(token, self._tokens[token_id], abjad)[0]
        return {t: s for t, s in found.items() if s >= MIN_TOKEN_SIMILARITY}

    def candidates(self, form: NameForm, query: ScreeningQuery | None = None) -> list[int]:
        """The name records most likely to match `form`, best first (ties at the cut kept).

        First the best matches of one query token (the cheapest to walk) are walked in full, so
        every name containing it is in; then the other matches, rarest first, except that a very
        common token (a frequent given name) is only added to names already found: a name that
        shares nothing with the query but a common given name cannot win, and walking its
        posting would cost the most.
        """
        total = len(self._names) + 1
        rarity_scale = 0.5 / math.log(total + 1)
        per_token = [
            self._similar_tokens(token, form.abjad)
            for token in set(form.tokens)
            if len(token) >= 2  # an initial cannot block; it ranks below
        ]
        per_token = [similar for similar in per_token if similar]
        if not per_token:
            return []
        # the anchor: the query token whose best matches are the cheapest to walk in full
        anchor = min(per_token, key=lambda similar: self._best_cost(similar))
        top = max(anchor.values())
        walked = [(t, sim) for t, sim in anchor.items() if sim == top]
        rest = [(t, sim) for similar in per_token for t, sim in similar.items()]
        rest = [m for m in rest if m not in walked]
        rest.sort(key=lambda m: len(self._postings[m[0]]))
        scores: dict[int, float] = {}
        get = scores.get
        names = self._names
        for position, (token_id, sim) in enumerate(walked + rest):
            posting = self._postings[token_id]
            # coverage first (how many query tokens a name has), rarity only to order within it:
            # a rare near-miss must not outrank a name with every token of the query
            weight = sim * (1.0 + rarity_scale * math.log(total / len(posting)))
            if (
                position >= len(walked)
                and len(posting) > self.common_posting
                and len(scores) >= self.candidate_limit
            ):
                listed_token = self._tokens[token_id]
                for record in scores:
                    if listed_token in names[record][1].tokens:
                        scores[record] += weight
                continue
            for record in posting:
                scores[record] = get(record, 0.0) + weight
        if scores:
            self._rank_by_facts(scores, form, query)
        best = heapq.nlargest(self.candidate_limit * 3, scores.items(), key=itemgetter(1))
        if len(best) > self.candidate_limit:
            cut = best[self.candidate_limit - 1][1]
            best = [b for b in best if b[1] >= cut]
        return [record for record, _ in best]

    def _rank_by_facts(
        self, scores: dict[int, float], form: NameForm, query: ScreeningQuery | None
    ) -> None:
        """Break ties between names sharing the query's tokens: initials, birth year, country.

        Only names that could reach the cut with the largest bonus are looked at, which keeps
        this bounded when one common token (a frequent given name) matches thousands of names.
        """
        initials = {t for t in form.tokens if len(t) == 1}
        year = query.birth_date.year if query and query.birth_date else None
        country = query.country if query else None
        if not (initials or year or country):
            return
        most = 0.6 * len(initials) + (0.3 if year else 0.0) + (0.15 if country else 0.0)
        ranked = heapq.nlargest(self.candidate_limit, scores.values())
        floor = ranked[-1] - most
        names, years, countries = self._names, self._birth_years, self._countries
        for record, score in list(scores.items()):
            if score < floor:
                continue
            index, listed, _ = names[record]
            bonus = 0.6 * len(initials & {t[0] for t in listed.tokens}) if initials else 0.0
            if year and year in years[index]:
                bonus += 0.3
            if country and country in countries[index]:
                bonus += 0.15
            scores[record] = score + bonus

    def screen(self, query: ScreeningQuery, form: NameForm | None = None) -> list[ScreeningHit]:
        """Hits at or above this list's threshold: exact identifiers first, then names."""
        hits: dict[int, ScreeningHit] = {}
        for identifier in query.identifiers:
            for index in self._by_identifier.get(identifier, ()):
                feature = MatchFeature(f"{identifier.kind.value}_match", identifier.value, 0.0)
                hits[index] = self._hit(index, identifier.value, 1.0, (feature,))
        form = form if form is not None else analyse_name(query.name)
        if form.tokens:
            for index, hit in self._name_hits(query, form).items():
                if index not in hits:
                    hits[index] = hit
        return sorted(hits.values(), key=lambda h: -h.score)

    def _name_hits(self, query: ScreeningQuery, form: NameForm) -> dict[int, ScreeningHit]:
        best: dict[int, tuple[float, str, tuple[MatchFeature, ...]]] = {}
        for record in self.candidates(form, query):
            index, listed, weak = self._names[record]
            score, features = score_name(form, listed)
            if weak:
                score *= WEAK_ALIAS_FACTOR
                features += (MatchFeature("weak_alias", listed.original, WEAK_ALIAS_FACTOR - 1),)
            elif listed.original != self.entities[index].primary_name:
                features += (MatchFeature("alias", listed.original),)
            if index not in best or score > best[index][0]:
                best[index] = (score, listed.original, features)
        hits: dict[int, ScreeningHit] = {}
        for index, (name_score, matched, features) in best.items():
            entity = self.entities[index]
            score = name_score
            extra: list[MatchFeature] = []
            for delta, feature in (
                birth_date_adjustment(query.birth_date, entity.birth_dates),
                country_adjustment(query.country, entity.countries),
            ):
                score += delta
                if feature is not None:
                    extra.append(feature)
            score = max(0.0, min(1.0, score))
            if score >= self.threshold:
                hits[index] = self._hit(index, matched, score, features + tuple(extra))
        return hits

    def _hit(
        self, index: int, matched: str, score: float, features: tuple[MatchFeature, ...]
    ) -> ScreeningHit:
        entity = self.entities[index]
        return ScreeningHit(
            list_name=self.list_name,
            list_version=self.version,
            entity_id=entity.entity_id,
            entity_kind=entity.kind,
            entity_name=entity.primary_name,
            matched_name=matched,
            score=score,
            threshold=self.threshold,
            features=features,
            programs=entity.programs,
        )
