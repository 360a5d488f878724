"""The crypto context's pure core: chains, addresses, signatures, transactions, errors."""

from twinrail.crypto.domain.addresses import (
    address_from_public_key,
    checksum_address,
    public_key_from_ec_point,
)
from twinrail.crypto.domain.chains import Chain, ChainRegistry, FinalitySource, NativeAsset, Token
from twinrail.crypto.domain.custody import (
    ANY_CHAIN,
    AddressPurpose,
    CustodyAddress,
    CustodyAddressAssigned,
)
from twinrail.crypto.domain.fees import FeeHistory, FeePolicy, estimate_fees
from twinrail.crypto.domain.nonces import NonceReservation, ReservationStatus
from twinrail.crypto.domain.signatures import Signature, normalise_low_s, split_raw_signature
from twinrail.crypto.domain.transactions import (
    Eip1559Transaction,
    FeeQuote,
    Log,
    Receipt,
    SignedTransaction,
)

__all__ = [
    "ANY_CHAIN",
    "AddressPurpose",
    "CustodyAddress",
    "CustodyAddressAssigned",
    "FeeHistory",
    "FeePolicy",
    "estimate_fees",
    "NonceReservation",
    "ReservationStatus",
    "address_from_public_key",
    "checksum_address",
    "public_key_from_ec_point",
    "Chain",
    "ChainRegistry",
    "FinalitySource",
    "NativeAsset",
    "Token",
    "Signature",
    "normalise_low_s",
    "split_raw_signature",
    "Eip1559Transaction",
    "FeeQuote",
    "Log",
    "Receipt",
    "SignedTransaction",
]
