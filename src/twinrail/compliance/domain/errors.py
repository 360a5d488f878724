"""The compliance error tree. Every leaf has a stable dotted `code` and structured `context`.

ComplianceError
├── ComplianceRejection            the input breaks a rule; nothing was changed
│   ├── ListFileError              a list file cannot be loaded (nothing was loaded)
│   │   ├── MalformedListFile      not well-formed (truncated XML, bad JSON line)
│   │   ├── WrongListSchema        well-formed, but not the format it was loaded as
│   │   └── DuplicateEntityId      the same entity id twice in one file
│   ├── UnknownListFormat          no loader for that format name
│   ├── InvalidScreeningQuery      empty name, absurd date, unknown country, bad identifier
│   ├── InvalidKycProfile          unknown KYC status or tier, empty customer id
│   ├── InvalidRuleSet             a rule file is not YAML, or a rule is malformed or unknown
│   ├── CallbackSignatureInvalid   a KYC provider callback is unsigned, badly signed or stale
│   ├── UnknownVerification        no verification has that provider reference
│   ├── InvalidBeneficialOwners    owners with no name, a bad share, or shares over 100 %
│   ├── UnknownCase                no case (or proposal) has that id
│   ├── InvalidCaseAction          the case or proposal is not in a state that allows this
│   └── FourEyesViolation          the person who raised or prepared it may not approve it
└── ComplianceFault                infrastructure; the outcome is unknown or retryable
    ├── ListLoadInterrupted        (retryable) a load failed half way; the previous version stays
    └── KycProviderUnavailable     (retryable) the KYC provider did not answer in time
"""

from __future__ import annotations

from twinrail.platform.errors import TwinrailError

__all__ = [
    "ComplianceError",
    "ComplianceRejection",
    "ListFileError",
    "MalformedListFile",
    "WrongListSchema",
    "DuplicateEntityId",
    "UnknownListFormat",
    "InvalidScreeningQuery",
    "InvalidKycProfile",
    "InvalidRuleSet",
    "ComplianceFault",
    "ListLoadInterrupted",
    "CallbackSignatureInvalid",
    "UnknownVerification",
    "InvalidBeneficialOwners",
    "UnknownCase",
    "InvalidCaseAction",
    "FourEyesViolation",
    "KycProviderUnavailable",
]


class ComplianceError(TwinrailError):
    """Root of every error the compliance context raises."""

    code = "compliance.error"


class ComplianceRejection(ComplianceError):
    """The input breaks a rule; nothing was changed."""

    code = "compliance.rejected"


class ListFileError(ComplianceRejection):
    """A list file cannot be loaded; the active version is unchanged."""

    code = "compliance.list.invalid_file"


class MalformedListFile(ListFileError):
    """Raised when a list file is not well-formed (truncated XML, a line that is not JSON)."""

    code = "compliance.list.malformed"


class WrongListSchema(ListFileError):
    """Raised when a well-formed file is not of the format it was loaded as."""

    code = "compliance.list.wrong_schema"


class DuplicateEntityId(ListFileError):
    """Raised when one file lists the same entity id twice."""

    code = "compliance.list.duplicate_id"


class UnknownListFormat(ComplianceRejection):
    """Raised when no loader exists for the requested format name."""

    code = "compliance.list.unknown_format"


class InvalidScreeningQuery(ComplianceRejection):
    """Raised for an empty name, an absurd birth date, an unknown country or a bad identifier."""

    code = "compliance.screening.invalid_query"


class InvalidKycProfile(ComplianceRejection):
    """Raised when a KYC profile is set with an unknown status or tier, or no customer id."""

    code = "compliance.kyc.invalid_profile"


class ComplianceFault(ComplianceError):
    """Infrastructure trouble; the operation may be retried."""

    code = "compliance.fault"
    retryable = True


class ListLoadInterrupted(ComplianceFault):
    """Raised when a load fails half way; it was rolled back and the previous version stays."""

    code = "compliance.list.load_interrupted"


class CallbackSignatureInvalid(ComplianceRejection):
    """Raised when a provider callback has no valid signature, or one too old to trust."""

    code = "compliance.kyc.callback_signature_invalid"


class UnknownVerification(ComplianceRejection):
    """Raised when a callback or command names a verification that does not exist."""

    code = "compliance.kyc.unknown_verification"


class InvalidBeneficialOwners(ComplianceRejection):
    """Raised for owners without a name, a share outside (0, 100] or shares summing over 100."""

    code = "compliance.owners.invalid"


class UnknownCase(ComplianceRejection):
    """Raised when a case, a case decision or a false-positive proposal is not found."""

    code = "compliance.case.not_found"


class InvalidCaseAction(ComplianceRejection):
    """Raised when a case or proposal is not in a state that allows the action."""

    code = "compliance.case.invalid_action"


class FourEyesViolation(ComplianceRejection):
    """Raised when the person who raised or prepared a decision tries to approve it."""

    code = "compliance.case.four_eyes"


class KycProviderUnavailable(ComplianceFault):
    """Raised when the KYC provider did not answer within its timeout and retries."""

    code = "compliance.kyc.provider_unavailable"


class InvalidRuleSet(ComplianceRejection):
    """Raised when a rule set is not YAML, or a rule has a bad kind, parameter or reference;
    `problems` lists each one with where it is."""

    code = "compliance.rules.invalid"
