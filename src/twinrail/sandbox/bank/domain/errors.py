"""The sandbox bank's error tree. Each leaf carries the Berlin Group message code the TPP sees;
the HTTP status is chosen in exactly one place (`http/errors.py`) from the code and `location`.

BankError
├── BankRejection                    the TPP's request is refused; nothing was stored
│   ├── FormatError                  FORMAT_ERROR: malformed body, header or parameter
│   ├── ParameterNotSupported        PARAMETER_NOT_SUPPORTED
│   ├── PeriodInvalid                PERIOD_INVALID: dateFrom/dateTo out of range
│   ├── ServiceInvalid               SERVICE_INVALID: the request is not available on this resource
│   ├── ResourceUnknown              RESOURCE_UNKNOWN (location: path / header / payload)
│   ├── ConsentUnknown               CONSENT_UNKNOWN (location: path / header)
│   ├── ConsentInvalid               CONSENT_INVALID: consent not valid, or not for this access
│   ├── ConsentExpired               CONSENT_EXPIRED
│   ├── AccessExceeded               ACCESS_EXCEEDED: unattended access beyond frequencyPerDay
│   ├── StatusInvalid                STATUS_INVALID: the resource's status forbids the change
│   ├── ProductUnknown               PRODUCT_UNKNOWN: the payment product is not offered
│   ├── ProductInvalid               PRODUCT_INVALID: the product is not available on the account
│   └── PsuCredentialsInvalid        PSU_CREDENTIALS_INVALID: wrong PSU-ID, password or OTP
└── BankFault                        the sandbox itself failed (INTERNAL_SERVER_ERROR)
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = [
    "Location",
    "BankError",
    "BankRejection",
    "FormatError",
    "ParameterNotSupported",
    "PeriodInvalid",
    "ServiceInvalid",
    "ResourceUnknown",
    "ConsentUnknown",
    "ConsentInvalid",
    "ConsentExpired",
    "AccessExceeded",
    "StatusInvalid",
    "ProductUnknown",
    "ProductInvalid",
    "PsuCredentialsInvalid",
    "BankFault",
]

Location = Literal["path", "header", "query", "payload"]


class BankError(Exception):
    """Root of every error the sandbox bank raises."""

    code = "sandbox.bank.error"
    berlin_group_code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, location: Location = "payload", **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.location: Location = location
        self.context = context


class BankRejection(BankError):
    """The TPP's request is refused; nothing was stored."""

    code = "sandbox.bank.rejected"


class FormatError(BankRejection):
    """Raised when a body, header or query parameter is malformed or missing."""

    code = "sandbox.bank.format_error"
    berlin_group_code = "FORMAT_ERROR"


class ParameterNotSupported(BankRejection):
    """Raised for a parameter value the sandbox bank does not support."""

    code = "sandbox.bank.parameter_not_supported"
    berlin_group_code = "PARAMETER_NOT_SUPPORTED"


class PeriodInvalid(BankRejection):
    """Raised when the requested date range is inverted or outside what the bank serves."""

    code = "sandbox.bank.period_invalid"
    berlin_group_code = "PERIOD_INVALID"


class ServiceInvalid(BankRejection):
    """Raised when the addressed service is not available for the resource."""

    code = "sandbox.bank.service_invalid"
    berlin_group_code = "SERVICE_INVALID"


class ResourceUnknown(BankRejection):
    """Raised when an account, authorisation or other resource id is unknown to this TPP."""

    code = "sandbox.bank.resource_unknown"
    berlin_group_code = "RESOURCE_UNKNOWN"


class ConsentUnknown(BankRejection):
    """Raised when the consent id does not name a consent of this TPP."""

    code = "sandbox.bank.consent_unknown"
    berlin_group_code = "CONSENT_UNKNOWN"


class ConsentInvalid(BankRejection):
    """Raised when the consent is not valid, or does not cover the requested access."""

    code = "sandbox.bank.consent_invalid"
    berlin_group_code = "CONSENT_INVALID"


class ConsentExpired(BankRejection):
    """Raised when the consent's validUntil has passed (or it needs SCA again after 180 days)."""

    code = "sandbox.bank.consent_expired"
    berlin_group_code = "CONSENT_EXPIRED"


class AccessExceeded(BankRejection):
    """Raised when unattended accesses today exceed the consent's frequencyPerDay."""

    code = "sandbox.bank.access_exceeded"
    berlin_group_code = "ACCESS_EXCEEDED"


class StatusInvalid(BankRejection):
    """Raised when the resource's status does not allow the requested change."""

    code = "sandbox.bank.status_invalid"
    berlin_group_code = "STATUS_INVALID"


class ProductUnknown(BankRejection):
    """Raised for a payment product this bank does not offer."""

    code = "sandbox.bank.product_unknown"
    berlin_group_code = "PRODUCT_UNKNOWN"


class ProductInvalid(BankRejection):
    """Raised when the payment product cannot be used from the debtor account."""

    code = "sandbox.bank.product_invalid"
    berlin_group_code = "PRODUCT_INVALID"


class PsuCredentialsInvalid(BankRejection):
    """Raised for an unknown PSU-ID or a wrong password or OTP."""

    code = "sandbox.bank.psu_credentials_invalid"
    berlin_group_code = "PSU_CREDENTIALS_INVALID"


class BankFault(BankError):
    """The sandbox bank itself failed; the TPP may retry."""

    code = "sandbox.bank.fault"
    berlin_group_code = "INTERNAL_SERVER_ERROR"
