"""OpenSanctions / FollowTheMoney entities, one JSON object per line (`entities.ftm.json`).

Schemas and property names are checked against the `followthemoney` model, so a file of some
other JSON is refused as a wrong schema rather than loaded as nameless entities. Wallets and
sanctions are separate FtM entities that point at their holder; they are folded into it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from typing import Any, BinaryIO

from twinrail.compliance.domain.entities import EntityKind, Identifier, IdentifierKind, ListEntity
from twinrail.compliance.domain.errors import MalformedListFile, WrongListSchema
from twinrail.compliance.domain.identifiers import try_identifier

__all__ = ["parse_ftm", "entity_to_ftm"]

_KINDS = {
    "Person": EntityKind.PERSON,
    "Organization": EntityKind.ORGANIZATION,
    "Company": EntityKind.ORGANIZATION,
    "LegalEntity": EntityKind.ORGANIZATION,
    "PublicBody": EntityKind.ORGANIZATION,
    "Vessel": EntityKind.VESSEL,
    "Airplane": EntityKind.AIRCRAFT,
    "CryptoWallet": EntityKind.WALLET,
    "BankAccount": EntityKind.ACCOUNT,
}


@lru_cache(maxsize=256)
def _schema_properties(schema: str) -> frozenset[str] | None:
    from followthemoney import model

    found = model.get(schema)
    return None if found is None else frozenset(found.properties)


def _values(props: dict[str, Any], *names: str) -> list[str]:
    out: list[str] = []
    for name in names:
        values = props.get(name) or []
        out.extend(str(v) for v in values if v)
    return out


def _identifiers(props: dict[str, Any]) -> set[Identifier]:
    found = {try_identifier(IdentifierKind.WALLET, v) for v in _values(props, "publicKey")}
    found |= {try_identifier(IdentifierKind.IBAN, v) for v in _values(props, "iban")}
    found |= {try_identifier(IdentifierKind.BIC, v) for v in _values(props, "bic", "swiftBic")}
    return {i for i in found if i}


def _entity(data: dict[str, Any], line: int) -> tuple[str, str, dict[str, Any]]:
    entity_id, schema, props = data.get("id"), data.get("schema"), data.get("properties")
    if not isinstance(entity_id, str) or not isinstance(schema, str) or not isinstance(props, dict):
        raise WrongListSchema("not an FtM entity (id, schema, properties)", line=line)
    known = _schema_properties(schema)
    if known is None:
        raise WrongListSchema(f"unknown FtM schema {schema!r}", line=line, entity_id=entity_id)
    unknown = set(props) - known
    if unknown:
        raise WrongListSchema(
            f"properties not in schema {schema}: {sorted(unknown)}", line=line, entity_id=entity_id
        )
    return entity_id, schema, props


def parse_ftm(source: BinaryIO) -> Iterator[ListEntity]:
    """Screenable entities (people, organisations, vessels, wallets, accounts) of an FtM file."""
    entities: dict[str, tuple[str, dict[str, Any]]] = {}
    extra_ids: dict[str, set[Identifier]] = {}
    programs: dict[str, list[str]] = {}
    for line_no, raw in enumerate(source, 1):
        if not raw.strip():
            continue
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedListFile(f"line is not JSON: {exc}", line=line_no) from None
        if not isinstance(data, dict):
            raise WrongListSchema("a line is not a JSON object", line=line_no)
        entity_id, schema, props = _entity(data, line_no)
        if schema == "Sanction":
            for holder in _values(props, "entity"):
                programs.setdefault(holder, []).extend(_values(props, "program"))
            continue
        if schema == "CryptoWallet":
            for holder in _values(props, "holder"):
                extra_ids.setdefault(holder, set()).update(_identifiers(props))
        if schema not in _KINDS:
            continue
        if entity_id in entities:
            from twinrail.compliance.domain.errors import DuplicateEntityId

            raise DuplicateEntityId("the same entity id appears twice", entity_id=entity_id)
        entities[entity_id] = (schema, props)
    for entity_id, (schema, props) in entities.items():
        names = _values(props, "name") or _values(props, "publicKey", "iban") or [entity_id]
        yield ListEntity(
            entity_id=entity_id,
            kind=_KINDS[schema],
            names=tuple(dict.fromkeys(names + _values(props, "alias", "previousName"))),
            weak_aliases=tuple(dict.fromkeys(_values(props, "weakAlias"))),
            birth_dates=tuple(dict.fromkeys(_values(props, "birthDate"))),
            countries=tuple(
                dict.fromkeys(
                    v.upper()
                    for v in _values(props, "nationality", "citizenship", "country", "jurisdiction")
                    if len(v) == 2
                )
            ),
            identifiers=tuple(sorted(_identifiers(props) | extra_ids.get(entity_id, set()))),
            programs=tuple(dict.fromkeys(_values(props, "program") + programs.get(entity_id, []))),
        )


def entity_to_ftm(entity: ListEntity) -> dict[str, Any]:
    """The FtM JSON form of a person or organisation (used by the synthetic list generator)."""
    schema = {EntityKind.PERSON: "Person", EntityKind.VESSEL: "Vessel"}.get(
        entity.kind, "Organization"
    )
    props: dict[str, list[str]] = {"name": [entity.names[0]]}
    if entity.names[1:]:
        props["alias"] = list(entity.names[1:])
    if entity.weak_aliases:
        props["weakAlias"] = list(entity.weak_aliases)
    if entity.birth_dates and schema == "Person":
        props["birthDate"] = list(entity.birth_dates)
    if entity.countries:
        props["nationality" if schema == "Person" else "country"] = [
            c.lower() for c in entity.countries
        ]
    if entity.programs:
        props["program"] = list(entity.programs)
    return {"id": entity.entity_id, "schema": schema, "properties": props}
