"""PSD2 identity of a TPP per ETSI TS 119 495: roles, NCA and organisation id."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["Psd2Role", "Psd2Attributes", "OrganizationIdentifier", "QcType"]


class Psd2Role(StrEnum):
    """The four PSP roles of TS 119 495 §5.1 (RoleOfPSP)."""

    PSP_AS = "PSP_AS"  # account servicing (a bank)
    PSP_PI = "PSP_PI"  # payment initiation
    PSP_AI = "PSP_AI"  # account information
    PSP_IC = "PSP_IC"  # issuing of card-based payment instruments (funds confirmation)

    @property
    def oid(self) -> str:
        """The role's object identifier (id-psd2-role-*)."""
        return _ROLE_OIDS[self]

    @classmethod
    def from_oid(cls, oid: str) -> Psd2Role | None:
        """The role with this OID, or None for an OID TS 119 495 does not define."""
        return _ROLES_BY_OID.get(oid)


_ROLE_OIDS = {
    Psd2Role.PSP_AS: "0.4.0.19495.1.1",
    Psd2Role.PSP_PI: "0.4.0.19495.1.2",
    Psd2Role.PSP_AI: "0.4.0.19495.1.3",
    Psd2Role.PSP_IC: "0.4.0.19495.1.4",
}
_ROLES_BY_OID = {oid: role for role, oid in _ROLE_OIDS.items()}


class QcType(StrEnum):
    """ETSI EN 319 412-5 QcType: what the qualified certificate is for."""

    ESIGN = "0.4.0.1862.1.6.1"
    ESEAL = "0.4.0.1862.1.6.2"  # a QSealC
    WEB = "0.4.0.1862.1.6.3"  # a QWAC


@dataclass(frozen=True)
class Psd2Attributes:
    """The PSD2 QCStatement: the roles the NCA authorised and who that NCA is."""

    roles: frozenset[Psd2Role]
    nca_name: str
    nca_id: str  # "<CC>-<NCA>", e.g. "DE-BAFIN"


_ORG_ID = re.compile(r"^PSD([A-Z]{2})-([A-Z]{2,8})-([A-Za-z0-9\-. ]{1,64})$")


@dataclass(frozen=True)
class OrganizationIdentifier:
    """The subject's organizationIdentifier (2.5.4.97) in TS 119 495's `PSD<CC>-<NCA>-<id>` form."""

    country: str
    nca: str
    authorisation_number: str

    @classmethod
    def parse(cls, text: str) -> OrganizationIdentifier:
        """Read `PSDDE-BAFIN-123456`; ValueError for anything else."""
        match = _ORG_ID.match(text)
        if not match:
            raise ValueError(f"not a PSD2 organizationIdentifier: {text!r}")
        return cls(match.group(1), match.group(2), match.group(3))

    @property
    def nca_id(self) -> str:
        """The NCA id as the QCStatement spells it (`DE-BAFIN`)."""
        return f"{self.country}-{self.nca}"

    def __str__(self) -> str:
        return f"PSD{self.country}-{self.nca}-{self.authorisation_number}"
