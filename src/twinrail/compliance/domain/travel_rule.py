"""Travel rule for crypto transfers: originator and beneficiary in IVMS101 form, checked against
the EU Transfer of Funds Regulation (EU) 2023/1113.

Art. 14(1): the originator's CASP sends the originator's name, distributed-ledger address (the
wallet), and address including country, or official personal document number, or customer
identification number, or date and place of birth (a legal person: its LEI or national id
instead of the personal ones). Art. 14(2): the beneficiary's name and wallet. Art. 14(5): to a
self-hosted wallet above EUR 1,000, the CASP must verify that the originator owns or controls it.
There is no de-minimis threshold between CASPs.

The order's `travel_rule` payload is the input (see `TravelRuleInput`); `build_ivms101` turns
it into the IVMS101 message (`IvmsPayload`, camelCase as the standard writes it) and
`check_travel_rule` lists every problem. Missing or invalid data asks for review, never allow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

__all__ = [
    "SELF_HOSTED_THRESHOLD_EUR_CENTS",
    "PartyInput",
    "VaspInput",
    "OwnershipProof",
    "TravelRuleInput",
    "IvmsPayload",
    "TravelRuleCheck",
    "build_ivms101",
    "check_travel_rule",
]

SELF_HOSTED_THRESHOLD_EUR_CENTS = 1_000_00


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AddressInput(_Input):
    street: str | None = None
    building_number: str | None = None
    post_code: str | None = None
    town: str | None = None
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class NationalIdInput(_Input):
    id: str = Field(min_length=1)
    type: Literal["ARNU", "CCPT", "RAID", "DRLC", "FIIN", "TXID", "SOCS", "IDCD", "LEIX", "MISC"]
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class PartyInput(_Input):
    """A person as the order describes them (natural by default)."""

    kind: Literal["natural", "legal"] = "natural"
    first_name: str | None = None  # natural persons: secondary identifier
    last_name: str | None = None  # natural persons: primary identifier
    legal_name: str | None = None  # legal persons
    address: AddressInput | None = None
    national_id: NationalIdInput | None = None
    customer_id: str | None = None
    date_of_birth: dt.date | None = None
    place_of_birth: str | None = None
    lei: str | None = Field(default=None, pattern=r"^[A-Z0-9]{18}[0-9]{2}$")


class VaspInput(_Input):
    name: str = Field(min_length=1)
    lei: str | None = Field(default=None, pattern=r"^[A-Z0-9]{18}[0-9]{2}$")


class OwnershipProof(_Input):
    """How the originator proved control of a self-hosted wallet."""

    method: Literal["signature", "satoshi_test", "attestation", "screenshot"]
    reference: str = Field(min_length=1)


class TravelRuleInput(_Input):
    """The `travel_rule` payload of a crypto withdrawal (the pipeline copies it from the order)."""

    originator: PartyInput | None = None
    beneficiary: PartyInput | None = None
    originator_wallet: str | None = None
    beneficiary_wallet: str | None = None
    originating_vasp: VaspInput | None = None
    beneficiary_vasp: VaspInput | None = None
    self_hosted: bool = False
    ownership_proof: OwnershipProof | None = None


class _Ivms(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class NaturalPersonNameId(_Ivms):
    primary_identifier: str
    secondary_identifier: str | None = None
    name_identifier_type: str = "LEGL"


class NaturalPersonName(_Ivms):
    name_identifier: list[NaturalPersonNameId]


class LegalPersonNameId(_Ivms):
    legal_person_name: str
    legal_person_name_identifier_type: str = "LEGL"


class LegalPersonName(_Ivms):
    name_identifier: list[LegalPersonNameId]


class GeographicAddress(_Ivms):
    address_type: str = "GEOG"
    street_name: str | None = None
    building_number: str | None = None
    post_code: str | None = None
    town_name: str | None = None
    country: str | None = None


class NationalIdentification(_Ivms):
    national_identifier: str
    national_identifier_type: str
    country_of_issue: str | None = None


class DateAndPlaceOfBirth(_Ivms):
    date_of_birth: dt.date
    place_of_birth: str


class NaturalPerson(_Ivms):
    name: NaturalPersonName
    geographic_address: list[GeographicAddress] = []
    national_identification: NationalIdentification | None = None
    customer_identification: str | None = None
    date_and_place_of_birth: DateAndPlaceOfBirth | None = None


class LegalPerson(_Ivms):
    name: LegalPersonName
    geographic_address: list[GeographicAddress] = []
    national_identification: NationalIdentification | None = None
    customer_identification: str | None = None


class Person(_Ivms):
    natural_person: NaturalPerson | None = None
    legal_person: LegalPerson | None = None


class Originator(_Ivms):
    originator_persons: list[Person]
    account_number: list[str]


class Beneficiary(_Ivms):
    beneficiary_persons: list[Person]
    account_number: list[str]


class OriginatingVasp(_Ivms):
    originating_vasp: Person = Field(serialization_alias="originatingVASP")


class BeneficiaryVasp(_Ivms):
    beneficiary_vasp: Person = Field(serialization_alias="beneficiaryVASP")


class IvmsPayload(_Ivms):
    """The IVMS101 subset a transfer carries: parties, their wallets, and the two VASPs."""

    originator: Originator
    beneficiary: Beneficiary
    originating_vasp: OriginatingVasp | None = Field(
        default=None, serialization_alias="originatingVASP"
    )
    beneficiary_vasp: BeneficiaryVasp | None = Field(
        default=None, serialization_alias="beneficiaryVASP"
    )

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def _address(a: AddressInput | None) -> list[GeographicAddress]:
    if a is None:
        return []
    return [
        GeographicAddress(
            street_name=a.street,
            building_number=a.building_number,
            post_code=a.post_code,
            town_name=a.town,
            country=a.country,
        )
    ]


def _national_id(party: PartyInput) -> NationalIdentification | None:
    if party.national_id is not None:
        n = party.national_id
        return NationalIdentification(
            national_identifier=n.id, national_identifier_type=n.type, country_of_issue=n.country
        )
    if party.lei:
        return NationalIdentification(
            national_identifier=party.lei, national_identifier_type="LEIX"
        )
    return None


def _person(party: PartyInput) -> Person:
    if party.kind == "legal":
        legal_name = LegalPersonNameId(legal_person_name=party.legal_name or "")
        return Person(
            legal_person=LegalPerson(
                name=LegalPersonName(name_identifier=[legal_name]),
                geographic_address=_address(party.address),
                national_identification=_national_id(party),
                customer_identification=party.customer_id,
            )
        )
    birth = None
    if party.date_of_birth and party.place_of_birth:
        birth = DateAndPlaceOfBirth(
            date_of_birth=party.date_of_birth, place_of_birth=party.place_of_birth
        )
    name = NaturalPersonNameId(
        primary_identifier=party.last_name or "", secondary_identifier=party.first_name
    )
    return Person(natural_person=NaturalPerson(
        name=NaturalPersonName(name_identifier=[name]), geographic_address=_address(party.address),
        national_identification=_national_id(party), customer_identification=party.customer_id,
        date_and_place_of_birth=birth,
    ))  # fmt: skip


def _vasp(vasp: VaspInput) -> Person:
    return _person(PartyInput(kind="legal", legal_name=vasp.name, lei=vasp.lei))


def build_ivms101(data: TravelRuleInput, *, beneficiary_wallet: str | None = None) -> IvmsPayload:
    """The IVMS101 message for the transfer (empty names where the input has none)."""
    wallet = data.beneficiary_wallet or beneficiary_wallet
    return IvmsPayload(
        originator=Originator(
            originator_persons=[_person(data.originator or PartyInput())],
            account_number=[data.originator_wallet] if data.originator_wallet else [],
        ),
        beneficiary=Beneficiary(
            beneficiary_persons=[_person(data.beneficiary or PartyInput())],
            account_number=[wallet] if wallet else [],
        ),
        originating_vasp=OriginatingVasp(originating_vasp=_vasp(data.originating_vasp))
        if data.originating_vasp else None,
        beneficiary_vasp=BeneficiaryVasp(beneficiary_vasp=_vasp(data.beneficiary_vasp))
        if data.beneficiary_vasp else None,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class TravelRuleCheck:
    """The built message (None when the payload could not be read) and every problem found."""

    payload: IvmsPayload | None
    problems: tuple[str, ...]
    self_hosted: bool

    @property
    def complete(self) -> bool:
        return self.payload is not None and not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "ivms101": self.payload.to_json() if self.payload else None,
            "problems": list(self.problems),
            "self_hosted": self.self_hosted,
            "complete": self.complete,
        }


def _has_name(party: PartyInput | None) -> bool:
    if party is None:
        return False
    if party.kind == "legal":
        return bool(party.legal_name)
    return bool(party.last_name)


def _originator_problems(o: PartyInput | None) -> list[str]:
    if o is None:
        return ["originator: missing"]
    problems = [] if _has_name(o) else ["originator.name: missing"]
    has_address = o.address is not None and bool(o.address.town and o.address.country)
    has_birth = o.date_of_birth is not None and bool(o.place_of_birth)
    identified = has_address or o.national_id or o.customer_id or o.lei or has_birth
    if not identified:
        problems.append(
            "originator: an address with town and country, an official document number, a "
            "customer id or date and place of birth is required (TFR art. 14(1))"
        )
    return problems


def _problems(data: TravelRuleInput, wallet: str | None, eur_cents: int | None) -> list[str]:
    problems = _originator_problems(data.originator)
    if not data.originator_wallet:
        problems.append("originator_wallet: missing")
    if not _has_name(data.beneficiary):
        problems.append("beneficiary.name: missing")
    if not wallet:
        problems.append("beneficiary_wallet: missing")
    if data.originating_vasp is None:
        problems.append("originating_vasp: missing")
    if data.self_hosted:
        if eur_cents is None:
            problems.append("self_hosted: no EUR value, so ownership must be proven")
        if (eur_cents is None or eur_cents > SELF_HOSTED_THRESHOLD_EUR_CENTS) and (
            data.ownership_proof is None
        ):
            problems.append("ownership_proof: required for a self-hosted wallet above EUR 1000")
    elif data.beneficiary_vasp is None:
        problems.append("beneficiary_vasp: missing (or mark the wallet self_hosted)")
    return problems


def check_travel_rule(
    payload: Mapping[str, Any] | None, *, beneficiary_wallet: str | None, eur_cents: int | None
) -> TravelRuleCheck:
    """Build the IVMS101 message from the order's payload and list what the TFR still needs."""
    if payload is None:
        return TravelRuleCheck(None, ("travel_rule: no originator/beneficiary data",), False)
    try:
        data = TravelRuleInput.model_validate(payload)
    except ValidationError as exc:
        problems = tuple(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        return TravelRuleCheck(None, problems, bool(payload.get("self_hosted")))
    wallet = data.beneficiary_wallet or beneficiary_wallet
    message = build_ivms101(data, beneficiary_wallet=beneficiary_wallet)
    return TravelRuleCheck(message, tuple(_problems(data, wallet, eur_cents)), data.self_hosted)
