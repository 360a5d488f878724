"""The XML list formats: OFAC SDN (`sdn.xml`), EU consolidated (FSF `export`), UN consolidated.

Files are streamed with `iterparse` and each record is cleared once read, so a full published
file needs memory for one record at a time. Expat (stdlib) does not fetch external entities and
refuses exponential entity expansion.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from twinrail.compliance.domain.countries import country_code
from twinrail.compliance.domain.entities import (
    EntityKind,
    Identifier,
    IdentifierKind,
    ListEntity,
)
from twinrail.compliance.domain.errors import MalformedListFile, WrongListSchema
from twinrail.compliance.domain.identifiers import try_identifier

__all__ = ["parse_ofac_sdn", "parse_eu_fsf", "parse_un_sc", "parse_date"]

_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_DATE_DMY = re.compile(r"^(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4})$")
_DATE_MY = re.compile(r"^([A-Za-z]{3})[a-z]* (\d{4})$")
_YEAR = re.compile(r"(\d{4})")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _records(source: BinaryIO, root: str, record_tags: set[str]) -> Iterator[ET.Element]:
    """Complete record elements (namespaces stripped), after checking the root element."""
    depth = 0
    try:
        for event, elem in ET.iterparse(source, events=("start", "end")):
            if event == "start":
                if depth == 0 and _local(elem.tag) != root:
                    raise WrongListSchema(f"expected a <{root}> document", found=_local(elem.tag))
                depth += 1
                continue
            depth -= 1
            if _local(elem.tag) in record_tags and depth <= 2:
                for node in elem.iter():
                    node.tag = _local(node.tag)
                yield elem
                elem.clear()
    except ET.ParseError as exc:
        line, column = exc.position
        raise MalformedListFile(f"not well-formed XML: {exc}", line=line, column=column) from None
    if depth != 0:
        raise MalformedListFile("XML document ends early")


def _texts(elem: ET.Element, path: str) -> list[str]:
    return [t.strip() for t in (e.text for e in elem.iterfind(path)) if t and t.strip()]


def _countries(values: Iterable[str]) -> tuple[str, ...]:
    codes = (country_code(v) for v in values)
    return tuple(dict.fromkeys(c for c in codes if c))


def parse_date(value: str) -> str | None:
    """An ISO prefix (YYYY, YYYY-MM, YYYY-MM-DD) from the lists' date spellings."""
    value = value.strip()
    if re.match(r"^\d{4}-\d{2}-\d{2}$", value) or re.match(r"^\d{4}(-\d{2})?$", value):
        return value
    if m := _DATE_DMY.match(value):
        month = _MONTHS.get(m.group(2).lower())
        return f"{m.group(3)}-{month:02d}-{int(m.group(1)):02d}" if month else m.group(3)
    if m := _DATE_MY.match(value):
        month = _MONTHS.get(m.group(1).lower())
        return f"{m.group(2)}-{month:02d}" if month else m.group(2)
    if m := _YEAR.search(value):  # "circa 1952", "1952 to 1954": the first year
        return m.group(1)
    return None


def _dates(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(d for d in map(parse_date, values) if d))


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _require(value: str | None, what: str) -> str:
    if not value:
        raise WrongListSchema(f"a record without {what}")
    return value


# --- OFAC SDN -------------------------------------------------------------------------------

_OFAC_KINDS = {
    "individual": EntityKind.PERSON,
    "entity": EntityKind.ORGANIZATION,
    "vessel": EntityKind.VESSEL,
    "aircraft": EntityKind.AIRCRAFT,
}


def _ofac_identifier(id_type: str, number: str) -> Identifier | None:
    id_type = id_type.lower()
    if id_type.startswith("digital currency address"):
        return try_identifier(IdentifierKind.WALLET, number)
    if id_type in ("swift/bic", "bic"):
        return try_identifier(IdentifierKind.BIC, number)
    if id_type == "iban":
        return try_identifier(IdentifierKind.IBAN, number)
    return None


def _ofac_name(elem: ET.Element) -> str:
    return " ".join(p for p in (elem.findtext("firstName"), elem.findtext("lastName")) if p)


def parse_ofac_sdn(source: BinaryIO) -> Iterator[ListEntity]:
    """Entities of an OFAC `sdn.xml` (the SDN or consolidated non-SDN list)."""
    for elem in _records(source, "sdnList", {"sdnEntry"}):
        uid = _require(elem.findtext("uid"), "a uid")
        strong: list[str] = []
        weak: list[str] = []
        for aka in elem.iterfind("akaList/aka"):
            (weak if (aka.findtext("category") or "").lower() == "weak" else strong).append(
                _ofac_name(aka)
            )
        ids = (
            _ofac_identifier(i.findtext("idType") or "", i.findtext("idNumber") or "")
            for i in elem.iterfind("idList/id")
        )
        yield ListEntity(
            entity_id=uid,
            kind=_OFAC_KINDS.get((elem.findtext("sdnType") or "").lower(), EntityKind.OTHER),
            names=_unique([_require(_ofac_name(elem), "a name"), *strong]),
            weak_aliases=_unique(weak),
            birth_dates=_dates(_texts(elem, "dateOfBirthList/dateOfBirthItem/dateOfBirth")),
            countries=_countries(
                _texts(elem, "nationalityList/nationality/country")
                + _texts(elem, "citizenshipList/citizenship/country")
                + _texts(elem, "addressList/address/country")
            ),
            identifiers=tuple(sorted({i for i in ids if i})),
            programs=_unique(_texts(elem, "programList/program")),
        )


# --- EU consolidated (FSF) ------------------------------------------------------------------

_EU_KINDS = {"person": EntityKind.PERSON, "enterprise": EntityKind.ORGANIZATION}


def _eu_birth_date(node: ET.Element) -> str | None:
    if full := node.get("birthdate"):
        return parse_date(full)
    year = node.get("year")
    if not year:
        return None
    month = node.get("monthOfYear")
    return f"{year}-{int(month):02d}" if month and month.isdigit() else year


def parse_eu_fsf(source: BinaryIO) -> Iterator[ListEntity]:
    """Entities of the EU Financial Sanctions Files consolidated list (XML 1.1)."""
    for elem in _records(source, "export", {"sanctionEntity"}):
        entity_id = _require(elem.get("euReferenceNumber") or elem.get("logicalId"), "an id")
        subject = elem.find("subjectType")
        kind = _EU_KINDS.get(subject.get("code", "") if subject is not None else "")
        strong: list[str] = []
        weak: list[str] = []
        for alias in elem.iterfind("nameAlias"):
            whole = alias.get("wholeName") or " ".join(
                p
                for p in (alias.get("firstName"), alias.get("middleName"), alias.get("lastName"))
                if p
            )
            (strong if alias.get("strong", "true") == "true" else weak).append(whole)
        bics = [
            i.get("number", "")
            for i in elem.iterfind("identification")
            if i.get("identificationTypeCode", "").lower() in ("swiftbic", "bic")
        ]
        yield ListEntity(
            entity_id=entity_id,
            kind=kind or EntityKind.OTHER,
            names=_unique([_require((strong or weak or [""])[0], "a name"), *strong]),
            weak_aliases=_unique(w for w in weak if w not in strong),
            birth_dates=tuple(
                dict.fromkeys(d for d in map(_eu_birth_date, elem.iterfind("birthdate")) if d)
            ),
            countries=_countries(
                n.get("countryIso2Code", "")
                for n in [*elem.iterfind("citizenship"), *elem.iterfind("address")]
            ),
            identifiers=tuple(
                sorted({i for i in (try_identifier(IdentifierKind.BIC, b) for b in bics) if i})
            ),
            programs=_unique(r.get("programme", "") for r in elem.iterfind("regulation")),
        )


# --- UN Security Council consolidated -------------------------------------------------------


def _un_birth_dates(elem: ET.Element) -> tuple[str, ...]:
    values = []
    for node in elem.iterfind("INDIVIDUAL_DATE_OF_BIRTH"):
        for tag in ("DATE", "YEAR", "FROM_YEAR"):
            if text := (node.findtext(tag) or "").strip():
                values.append(text)
                break
    return _dates(values)


def parse_un_sc(source: BinaryIO) -> Iterator[ListEntity]:
    """Entities of the UN Security Council consolidated list (individuals and entities)."""
    for elem in _records(source, "CONSOLIDATED_LIST", {"INDIVIDUAL", "ENTITY"}):
        person = elem.tag == "INDIVIDUAL"
        parts = [
            elem.findtext(t) for t in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
        ]
        name = _require(" ".join(p.strip() for p in parts if p and p.strip()), "a name")
        alias_tag = "INDIVIDUAL_ALIAS" if person else "ENTITY_ALIAS"
        strong: list[str] = []
        weak: list[str] = []
        for alias in elem.iterfind(alias_tag):
            alias_name = (alias.findtext("ALIAS_NAME") or "").strip()
            quality = (alias.findtext("QUALITY") or "").lower()
            (weak if quality in ("low", "a.k.a. (low quality)") else strong).append(alias_name)
        original = (elem.findtext("NAME_ORIGINAL_SCRIPT") or "").strip()
        address_tag = "INDIVIDUAL_ADDRESS/COUNTRY" if person else "ENTITY_ADDRESS/COUNTRY"
        yield ListEntity(
            entity_id=_require(elem.findtext("DATAID"), "a DATAID").strip(),
            kind=EntityKind.PERSON if person else EntityKind.ORGANIZATION,
            names=_unique([name, original, *strong]),
            weak_aliases=_unique(weak),
            birth_dates=_un_birth_dates(elem),
            countries=_countries(_texts(elem, "NATIONALITY/VALUE") + _texts(elem, address_tag)),
            programs=_unique(_texts(elem, "UN_LIST_TYPE")),
        )
