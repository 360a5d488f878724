"""Pure rules of the sandbox bank: accounts, consents, authorisations, reports, errors."""

from twinrail.sandbox.bank.domain.accounts import (
    Account,
    Balance,
    BookingStatus,
    Psu,
    Transaction,
    balances_of,
    format_amount,
)
from twinrail.sandbox.bank.domain.authorisation import Authorisation, ScaApproach, ScaStatus
from twinrail.sandbox.bank.domain.consents import (
    AccessKind,
    Consent,
    ConsentAccess,
    ConsentRequest,
    ConsentStatus,
)

__all__ = [
    "AccessKind",
    "Account",
    "Authorisation",
    "Balance",
    "BookingStatus",
    "Consent",
    "ConsentAccess",
    "ConsentRequest",
    "ConsentStatus",
    "Psu",
    "ScaApproach",
    "ScaStatus",
    "Transaction",
    "balances_of",
    "format_amount",
]
