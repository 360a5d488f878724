"""Request (`*Create`) and response (`*Public`) bodies; never a domain or database object."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from twinrail.api.domain.model import CustomerKind
from twinrail.api.domain.roles import Role
from twinrail.pipeline.domain.model import OrderState, OrderType

__all__ = [
    "TokenPublic",
    "Page",
    "CustomerCreate",
    "CustomerPublic",
    "CustomerPage",
    "AccountCreate",
    "AccountPublic",
    "AccountPage",
    "BalancePublic",
    "StatementLinePublic",
    "StatementPublic",
    "ApiKeyCreate",
    "ApiKeyPublic",
    "ApiKeyCreated",
    "ClientCreate",
    "Counterparty",
    "ClientPublic",
    "ClientCreated",
    "ClientPage",
    "SigningKeyRotated",
    "HealthPublic",
    "PaymentOrderCreate",
    "PaymentOrderPublic",
    "PaymentOrderPage",
    "Text",
]

_strict = ConfigDict(extra="forbid")


def _without_nul(value: str) -> str:
    # PostgreSQL text cannot hold the NUL character: refused here as invalid input (422)
    # rather than failing in the database (500).
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


Text = Annotated[str, AfterValidator(_without_nul)]


class TokenPublic(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str = Field(description="The client's role.")

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"access_token": "eyJhbGciOiJFUzI1NiIs...", "token_type": "Bearer",
                 "expires_in": 300, "scope": "client"}
            ]
        }
    )  # fmt: skip


class Page(BaseModel):
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class CustomerCreate(BaseModel):
    kind: CustomerKind
    name: Text = Field(min_length=1, max_length=200, description="Full or legal name.")
    email: Text | None = Field(default=None, max_length=320)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1.")
    registration_number: Text | None = Field(
        default=None, max_length=100, description="Businesses: company registration number."
    )
    external_ref: Text | None = Field(
        default=None, max_length=200, description="The client's own id for this customer."
    )

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"kind": "individual", "name": "Ada Lovelace", "email": "ada@example.com",
                 "country": "GB", "external_ref": "user-42"},
                {"kind": "business", "name": "Analytical Engines Ltd", "country": "GB",
                 "registration_number": "01234567"},
            ]
        },
    )  # fmt: skip


class CustomerPublic(BaseModel):
    id: str
    kind: CustomerKind
    name: str
    email: str | None
    country: str | None
    registration_number: str | None
    external_ref: str | None
    created_at: dt.datetime


class CustomerPage(Page):
    data: list[CustomerPublic]


class AccountCreate(BaseModel):
    customer_id: Text = Field(max_length=64)
    asset: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$", examples=["EUR", "USDC"])
    metadata: dict[Text, Text] = Field(default_factory=dict, max_length=20)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"customer_id": "cus_0187f2c4a1b2c3", "asset": "EUR"}]},
    )


class AccountPublic(BaseModel):
    id: str
    customer_id: str
    asset: str
    metadata: dict[str, Any]
    created_at: dt.datetime


class AccountPage(Page):
    data: list[AccountPublic]


class BalancePublic(BaseModel):
    account_id: str
    asset: str
    posted: str = Field(description="Minor units, as a decimal string (amounts exceed 2^53).")
    pending: str
    available: str

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"account_id": "acc_0187f2c4", "asset": "EUR", "posted": "10000",
                          "pending": "0", "available": "10000"}]
        }
    )  # fmt: skip


class StatementLinePublic(BaseModel):
    transfer_id: str
    side: str
    amount: str
    balance_after: str
    effective_at: dt.datetime


class StatementPublic(Page):
    account_id: str
    asset: str
    opening_balance: str
    lines: list[StatementLinePublic]


class ApiKeyCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=200, examples=["payments backend"])
    client_id: Text | None = Field(
        default=None, max_length=64, description="Admins only: the client to issue it for."
    )

    model_config = _strict


class ApiKeyPublic(BaseModel):
    id: str
    client_id: str
    prefix: str = Field(description="Visible part of the key, to recognise it.")
    name: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


class ApiKeyCreated(ApiKeyPublic):
    api_key: str = Field(description="The full key; shown once, never again.")


class ClientCreate(BaseModel):
    name: Text = Field(min_length=1, max_length=200, examples=["Acme Pay"])
    role: Role

    model_config = _strict


class ClientPublic(BaseModel):
    id: str
    name: str
    role: Role
    created_at: dt.datetime
    disabled: bool


class ClientCreated(ClientPublic):
    client_secret: str = Field(description="Shown once, never again.")


class ClientPage(Page):
    data: list[ClientPublic]


class SigningKeyRotated(BaseModel):
    kid: str


class HealthPublic(BaseModel):
    status: str
    checks: dict[str, str] = Field(default_factory=dict)


class Counterparty(BaseModel):
    """Who receives the money outside the platform: a bank account or a wallet."""

    name: Text | None = Field(default=None, min_length=1, max_length=140)
    iban: str | None = Field(default=None, pattern=r"^[A-Z]{2}[0-9]{2}[A-Za-z0-9 ]{10,36}$")
    bic: str | None = Field(default=None, pattern=r"^[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3})?$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    wallet_address: str | None = Field(
        default=None, pattern=r"^0x[0-9a-fA-F]{40}$", description="EIP-55 checksummed."
    )
    chain_id: int | None = Field(default=None, ge=1, le=2**53)

    model_config = ConfigDict(extra="forbid")


class PaymentOrderCreate(BaseModel):
    type: OrderType
    amount: str = Field(
        pattern=r"^[1-9][0-9]{0,77}$",
        description="Minor units as a decimal string (cents; wei or token base units).",
    )
    asset: str = Field(pattern=r"^[A-Z][A-Z0-9]{1,11}$")
    source_account_id: Text = Field(max_length=64)
    destination_account_id: Text | None = Field(
        default=None, max_length=64, description="internal_transfer: the receiving account."
    )
    counterparty: Counterparty | None = Field(
        default=None,
        description="bank_payment: the creditor (name, iban); crypto_withdrawal: the "
        "destination (wallet_address, chain_id). Screened before any money moves.",
    )
    travel_rule: dict[str, Any] | None = Field(
        default=None,
        description="crypto_withdrawal: originator and beneficiary in IVMS101 form "
        "(`originator`, `beneficiary`, `beneficiary_vasp`, `self_hosted_wallet_proof`).",
    )
    reference: Text = Field(default="", max_length=140)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"type": "internal_transfer", "amount": "2500", "asset": "EUR",
                 "source_account_id": "acc_0187f2c4a1", "destination_account_id": "acc_0187f2c4b2",
                 "reference": "invoice 42"},
                {"type": "crypto_withdrawal", "amount": "25000000", "asset": "USDC",
                 "source_account_id": "acc_0187f2c4c3",
                 "counterparty": {"name": "Ada Lovelace", "chain_id": 31337,
                                  "wallet_address": "0x71C7656EC7ab88b098defB751B7401B5f6d8976F"}},
            ]
        },
    )  # fmt: skip


class PaymentOrderPublic(BaseModel):
    id: str
    type: OrderType
    state: OrderState
    state_reason: str
    amount: str
    asset: str
    customer_id: str
    source_account_id: str
    destination_account_id: str | None
    reference: str
    created_at: dt.datetime
    updated_at: dt.datetime


class PaymentOrderPage(Page):
    data: list[PaymentOrderPublic]
