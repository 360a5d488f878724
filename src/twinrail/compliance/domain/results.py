"""What screening is asked and what it answers: hits that explain themselves."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from twinrail.compliance.domain.entities import EntityKind, Identifier

__all__ = ["ScreeningQuery", "MatchFeature", "ScreeningHit", "ScreeningResult"]


@dataclass(frozen=True, slots=True)
class ScreeningQuery:
    """A party to screen: a name and/or exact identifiers, optionally birth date and country."""

    name: str
    birth_date: dt.date | None = None
    country: str | None = None  # ISO alpha-2
    identifiers: tuple[Identifier, ...] = ()


@dataclass(frozen=True, slots=True)
class MatchFeature:
    """One reason a hit scored what it did, with its effect on the score."""

    name: str
    detail: str
    effect: float = 0.0


@dataclass(frozen=True, slots=True)
class ScreeningHit:
    """A listed entity that matched, its score against the list's threshold, and why."""

    list_name: str
    list_version: int
    entity_id: str
    entity_kind: EntityKind
    entity_name: str
    matched_name: str
    score: float
    threshold: float
    features: tuple[MatchFeature, ...]
    programs: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "list": self.list_name,
            "list_version": self.list_version,
            "entity_id": self.entity_id,
            "entity_kind": self.entity_kind.value,
            "entity_name": self.entity_name,
            "matched_name": self.matched_name,
            "score": round(self.score, 4),
            "threshold": self.threshold,
            "features": [
                {"name": f.name, "detail": f.detail, "effect": round(f.effect, 4)}
                for f in self.features
            ],
            "programs": list(self.programs),
        }


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    """Every hit at or above its list's threshold, best first, and the list versions consulted."""

    query: ScreeningQuery
    hits: tuple[ScreeningHit, ...]
    list_versions: tuple[tuple[str, int], ...]

    @property
    def matched(self) -> bool:
        return bool(self.hits)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "query": {
                "name": self.query.name,
                "birth_date": self.query.birth_date.isoformat() if self.query.birth_date else None,
                "country": self.query.country,
                "identifiers": [[i.kind.value, i.value] for i in self.query.identifiers],
            },
            "matched": self.matched,
            "hits": [h.to_dict() for h in self.hits],
            "list_versions": dict(self.list_versions),
        }
