"""What a watch list holds: entities with names, birth dates, countries and exact identifiers."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["ListFormat", "EntityKind", "IdentifierKind", "Identifier", "ListEntity"]


class ListFormat(StrEnum):
    """The published list formats a loader exists for."""

    OFAC_SDN = "ofac-sdn"
    EU_FSF = "eu-fsf"
    UN_SC = "un-sc"
    FTM = "ftm"


class EntityKind(StrEnum):
    """What sort of party an entity is; only some kinds are compared by name."""

    PERSON = "person"
    ORGANIZATION = "organization"
    VESSEL = "vessel"
    AIRCRAFT = "aircraft"
    WALLET = "wallet"
    ACCOUNT = "account"
    OTHER = "other"


class IdentifierKind(StrEnum):
    """Identifiers matched exactly after normalisation."""

    IBAN = "iban"
    BIC = "bic"
    WALLET = "wallet"


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A normalised identifier (see `identifiers.normalise_identifier`)."""

    kind: IdentifierKind
    value: str


@dataclass(frozen=True, slots=True)
class ListEntity:
    """One listed party; `names[0]` is the primary name, the rest strong aliases."""

    entity_id: str
    kind: EntityKind
    names: tuple[str, ...]
    weak_aliases: tuple[str, ...] = ()
    birth_dates: tuple[str, ...] = ()  # ISO prefixes: YYYY, YYYY-MM or YYYY-MM-DD
    countries: tuple[str, ...] = ()  # ISO 3166-1 alpha-2
    identifiers: tuple[Identifier, ...] = ()
    programs: tuple[str, ...] = ()
    _hash: list[str] = field(default_factory=list, compare=False, repr=False)

    @property
    def primary_name(self) -> str:
        return self.names[0] if self.names else self.entity_id

    def content_hash(self) -> str:
        """A digest of everything screening looks at: equal hashes mean nothing to re-screen."""
        if not self._hash:
            body = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
            self._hash.append(hashlib.sha256(body.encode()).hexdigest()[:32])
        return self._hash[0]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready form, the inverse of `from_dict`."""
        return {
            "entity_id": self.entity_id,
            "kind": self.kind.value,
            "names": list(self.names),
            "weak_aliases": list(self.weak_aliases),
            "birth_dates": list(self.birth_dates),
            "countries": list(self.countries),
            "identifiers": [[i.kind.value, i.value] for i in self.identifiers],
            "programs": list(self.programs),
        }

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> ListEntity:
        """Rebuild an entity stored with `to_dict`."""

        def strings(key: str) -> tuple[str, ...]:
            value = data.get(key) or []
            assert isinstance(value, list)
            return tuple(str(v) for v in value)

        raw_ids = data.get("identifiers") or []
        assert isinstance(raw_ids, list)
        return cls(
            entity_id=str(data["entity_id"]),
            kind=EntityKind(str(data["kind"])),
            names=strings("names"),
            weak_aliases=strings("weak_aliases"),
            birth_dates=strings("birth_dates"),
            countries=strings("countries"),
            identifiers=tuple(Identifier(IdentifierKind(k), v) for k, v in raw_ids),
            programs=strings("programs"),
        )
