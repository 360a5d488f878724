"""Scoring one name against one listed name, then birth date and country, with the reasons.

Tokens are aligned one-to-one (best pairs first), so order does not matter. A pair counts when
its similarity reaches `MIN_TOKEN_SIMILARITY`: equal tokens 1.0, an initial 0.8, a typo or a
spelling variant its OSA similarity (none for words of up to four letters, where one letter off
makes another word), equal consonant skeletons 0.92 in abjad scripts (`mhmd`/`Mohammed`) and
0.85 for Latin romanisation variants of about the same length (`Fedor`/`Fyodor`). The name
score is a Dice coefficient over the alignment, where a token unmatched on one side only (a
missing middle name) weighs `EXTRA_TOKEN_WEIGHT` and a substituted token counts in full on both
sides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from functools import lru_cache

from rapidfuzz.distance import OSA, Indel

from twinrail.compliance.domain.names import NameForm, abjad_variants, skeleton
from twinrail.compliance.domain.results import MatchFeature

__all__ = [
    "MIN_TOKEN_SIMILARITY",
    "token_similarity",
    "score_name",
    "birth_date_adjustment",
    "country_adjustment",
]

MIN_TOKEN_SIMILARITY = 0.75
INITIAL_SIMILARITY = 0.8
SKELETON_SIMILARITY = 0.92
EXTRA_TOKEN_WEIGHT = 0.4
JOINED_DISCOUNT = 0.95
SHORT_TOKEN = 4
LATIN_SKELETON_MIN = 0.6
LATIN_SKELETON_SIMILARITY = 0.85
SHORT_TOKEN_MIN = 0.85


@lru_cache(maxsize=1 << 18)
def token_similarity(query: str, listed: str, abjad: bool) -> tuple[float, str]:
    """How alike two tokens are, in [0, 1], and the kind of likeness (memoised: the same
    given names and surnames meet again and again)."""
    if abjad:
        return max(_token_similarity(v, listed, True) for v in abjad_variants(query))
    return _token_similarity(query, listed, False)


def _token_similarity(query: str, listed: str, abjad: bool) -> tuple[float, str]:
    if query == listed:
        return 1.0, "exact"
    if len(query) == 1 or len(listed) == 1:
        return (INITIAL_SIMILARITY, "initial") if query[0] == listed[0] else (0.0, "none")
    # OSA: one substitution, insertion, deletion or transposition costs 1 over the longer length
    ratio = OSA.normalized_similarity(query, listed)
    if max(len(query), len(listed)) <= SHORT_TOKEN and ratio < SHORT_TOKEN_MIN:
        ratio = 0.0  # one letter off in a short word is another word (Tani, Taci)
    if abjad:
        # short vowels are not written: compare the consonants that are
        sk_query, sk_listed = skeleton(query), skeleton(listed)
        if sk_query and sk_query == sk_listed:
            return SKELETON_SIMILARITY, "consonants"
        if len(sk_query) >= 2:
            sk_ratio = Indel.normalized_similarity(sk_query, sk_listed) * 0.9
            if sk_ratio > ratio:
                return sk_ratio, "consonants"
    elif ratio >= LATIN_SKELETON_MIN and abs(len(query) - len(listed)) <= 1:
        # romanisation variants (Fedor/Fyodor, Mohammed/Muhammad) keep their consonants
        if len(skeleton(query)) >= 3 and skeleton(query) == skeleton(listed):
            return max(ratio, LATIN_SKELETON_SIMILARITY), "consonants"
    return ratio, "typo"


def _align(
    query: Sequence[str], listed: Sequence[str], abjad: bool
) -> list[tuple[float, str, str, str]]:
    pairs = []
    for q in query:
        for c in listed:
            sim, kind = token_similarity(q, c, abjad)
            if sim >= MIN_TOKEN_SIMILARITY:
                pairs.append((sim, kind, q, c))
    pairs.sort(key=lambda p: -p[0])
    used_q: set[str] = set()
    used_c: set[str] = set()
    chosen = []
    for sim, kind, q, c in pairs:
        if q not in used_q and c not in used_c:
            used_q.add(q)
            used_c.add(c)
            chosen.append((sim, kind, q, c))
    return chosen


def score_name(query: NameForm, listed: NameForm) -> tuple[float, tuple[MatchFeature, ...]]:
    """The similarity of two names in [0, 1] and the features that explain it."""
    q_tokens = tuple(dict.fromkeys(query.tokens))
    c_tokens = tuple(dict.fromkeys(listed.tokens))
    if not q_tokens or not c_tokens:
        return 0.0, ()
    chosen = _align(q_tokens, c_tokens, query.abjad)
    matched = len(chosen)
    unmatched_q, unmatched_c = len(q_tokens) - matched, len(c_tokens) - matched
    substituted = min(unmatched_q, unmatched_c)
    extras = abs(unmatched_q - unmatched_c)
    total = sum(p[0] for p in chosen)
    denominator = 2 * matched + 2 * substituted + EXTRA_TOKEN_WEIGHT * extras
    score = 2 * total / denominator
    features = [MatchFeature(kind, f"{q}~{c}", round(sim - 1.0, 4)) for sim, kind, q, c in chosen]
    if query.transliterated:
        features.append(MatchFeature("transliterated", query.original))
    if matched > 1 and _is_reordered(q_tokens, c_tokens, chosen):
        features.append(MatchFeature("reordered", " ".join(q_tokens)))
    if extras:
        missing = unmatched_c > unmatched_q
        features.append(MatchFeature("missing_part" if missing else "extra_part", str(extras)))
    if len(q_tokens) != len(c_tokens):
        joined = Indel.normalized_similarity(query.joined, listed.joined) * JOINED_DISCOUNT
        if joined > score and joined >= 0.85:
            return joined, (MatchFeature("joined_parts", f"{query.joined}~{listed.joined}"),)
    return score, tuple(features)


def _is_reordered(
    q_tokens: Sequence[str], c_tokens: Sequence[str], chosen: list[tuple[float, str, str, str]]
) -> bool:
    q_rank = {t: i for i, t in enumerate(q_tokens)}
    c_rank = {t: i for i, t in enumerate(c_tokens)}
    sequence = [c_rank[p[3]] for p in sorted(chosen, key=lambda p: q_rank[p[2]])]
    return sequence != sorted(sequence)


def birth_date_adjustment(
    query: dt.date | None, listed: Sequence[str]
) -> tuple[float, MatchFeature | None]:
    """Raise the score for an agreeing birth date, lower it for one years apart."""
    if query is None or not listed:
        return 0.0, None
    full = query.isoformat()
    best: tuple[float, MatchFeature] | None = None
    for value in listed:
        if value == full:
            return 0.06, MatchFeature("birth_date_match", value, 0.06)
        try:
            year = int(value[:4])
        except ValueError:
            continue
        gap = abs(year - query.year)
        if gap == 0 and len(value) == 10:
            # same year, another day: a typing error, or another person
            candidate = (-0.05, MatchFeature("birth_day_differs", value, -0.05))
        elif gap == 0:
            candidate = (0.03, MatchFeature("birth_year_match", value, 0.03))
        elif gap == 1:
            candidate = (-0.05, MatchFeature("birth_year_near", value, -0.05))
        else:
            candidate = (-0.2, MatchFeature("birth_date_mismatch", value, -0.2))
        if best is None or candidate[0] > best[0]:
            best = candidate
    return best if best else (0.0, None)


def country_adjustment(
    query: str | None, listed: Sequence[str]
) -> tuple[float, MatchFeature | None]:
    """Raise the score when the country is among the listed ones, lower it when it is not."""
    if query is None or not listed:
        return 0.0, None
    if query in listed:
        return 0.03, MatchFeature("country_match", query, 0.03)
    return -0.05, MatchFeature("country_mismatch", f"{query} not in {','.join(listed)}", -0.05)
