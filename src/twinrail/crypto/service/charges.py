"""Payment requests (charges): create them, follow their payments, expire them.

How charges hear of payments. A charge's address is a custody deposit address whose owner_ref
is `charge:<id>`, so the chain watcher records and credits payments to it like any deposit.
`ChargeBook` is a `DepositHook`: it runs inside the watcher's own unit of work right after
deposits are recorded (→ `pending`), credited (→ `completed`, `underpaid`, `overpaid`) or
dropped/reversed by a reorg, recomputes the status of the charges on those addresses from the
live deposit rows, and writes the new status with its `crypto.charge_<status>` event and audit
record in that same transaction. We chose this over an outbox consumer of
`crypto.deposit_credited` because `pending` needs deposits that are only *seen* (no event is
published for those) and because a hook in the same transaction can never lag behind or
disagree with the deposit rows: the charge's status and its deposits commit together.

Time alone moves a charge too (`new` → `expired`, a partly paid one → `underpaid`):
`ChargeService.expire_due` does that and runs as a worker loop.

Crediting: `ChargeAccounts` is the watcher's `account_for`: a payment to a charge address in
the charge's asset credits the merchant's ledger account named on the charge; another asset
has no account (ignored and counted by the watcher); other owners go to the fallback chart.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Connection, Engine

from twinrail.crypto.domain.chains import Chain, ChainRegistry
from twinrail.crypto.domain.charges import (
    Charge,
    ChargeStatus,
    charge_id_of,
    charge_owner_ref,
    charge_status,
    is_charge_owner_ref,
    parse_amount,
    status_event,
)
from twinrail.crypto.domain.custody import ANY_CHAIN, AddressPurpose, CustodyAddress
from twinrail.crypto.domain.deposits import Deposit
from twinrail.crypto.domain.errors import UnknownCharge
from twinrail.crypto.service.deposit_books import AccountResolver, customer_account_is_owner
from twinrail.crypto.service.ports import KeyStore
from twinrail.crypto.store import charge_store, custody_store
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.uow import UnitOfWork

__all__ = [
    "CreateCharge",
    "ChargeService",
    "ChargeBook",
    "ChargeAccounts",
    "refresh_charge",
    "expire_due_charges",
]


_CACHED_CHARGES = 10_000


@dataclass(frozen=True, slots=True)
class CreateCharge:
    """Ask for `amount` (a decimal string in the asset's units, or int minor units)."""

    account_id: str
    chain_id: int
    asset: str  # the native symbol (ETH) or a listed token's symbol or contract address
    amount: str | int
    expires_in: dt.timedelta = dt.timedelta(minutes=60)
    reference: str | None = None

    def __post_init__(self) -> None:
        if self.expires_in <= dt.timedelta(0):
            raise ValueError("expires_in must be positive")
        if not self.account_id:
            raise ValueError("a merchant ledger account is required")


def refresh_charge(uow: UnitOfWork, charge: Charge, now: dt.datetime) -> Charge:
    """Recompute `charge` from its live payments; write, publish and audit a status change."""
    payments = charge_store.payments_to(uow.connection, charge)
    status = charge_status(charge.amount, charge.expires_at, payments, now)
    paid = sum(p.amount for p in payments)
    if status is charge.status and paid == charge.paid:
        return charge
    moved = status is not charge.status
    updated = replace(
        charge,
        status=status,
        paid=paid,
        updated_at=now,
        version=charge.version + (1 if moved else 0),
    )
    charge_store.update_charge(uow.connection, updated)
    if moved:
        uow.publish([status_event(updated, charge.status)])
        uow.audit(
            f"crypto.charge_{status.value}",
            f"charge:{charge.id}",
            previous=charge.status.value,
            amount=str(charge.amount),
            paid=str(paid),
        )
    return updated


class ChargeBook:
    """The watcher hook: recompute the charges whose addresses just had deposits change."""

    def __init__(self, *, clock: Clock = utc_now) -> None:
        self._clock = clock

    def deposits_changed(self, uow: UnitOfWork, chain: Chain, changed: Sequence[Deposit]) -> None:
        addresses = [d.address for d in changed if is_charge_owner_ref(d.owner_ref)]
        if not addresses:
            return
        now = self._clock()
        for charge in charge_store.charges_at(uow.connection, chain.chain_id, addresses):
            refresh_charge(uow, charge, now)


class ChargeAccounts:
    """`account_for` of the watcher: charge addresses credit the charge's merchant account."""

    def __init__(self, engine: Engine, fallback: AccountResolver = customer_account_is_owner):
        self._engine = engine
        self._fallback = fallback
        self._charges: dict[str, Charge] = {}  # account and asset of a charge never change

    def __call__(self, owner_ref: str, asset: str) -> str | None:
        if not is_charge_owner_ref(owner_ref):
            return self._fallback(owner_ref, asset)
        charge_id = charge_id_of(owner_ref)
        charge = self._charges.get(charge_id)
        if charge is None:
            with self._engine.connect() as conn:
                charge = charge_store.find_charge(conn, charge_id)
            if charge is None:
                return None
            if len(self._charges) >= _CACHED_CHARGES:
                self._charges.clear()  # bounded: old charges are rarely paid again
            self._charges[charge_id] = charge
        return charge.account_id if asset == charge.asset else None


class ChargeService:
    """Creates and reads payment requests; expires them when their time is up."""

    def __init__(
        self,
        engine: Engine,
        key_store: KeyStore | None,
        chains: ChainRegistry,
        *,
        clock: Clock = utc_now,
        actor: str = "system",
    ) -> None:
        self._engine = engine
        self._keys = key_store
        self._chains = chains
        self._clock = clock
        self._actor = actor

    def _uow(self) -> UnitOfWork:
        return UnitOfWork(self._engine, actor=self._actor, clock=self._clock)

    def create(self, cmd: CreateCharge) -> Charge:
        """A new charge with a fresh address (its own key in the key store)."""
        chain = self._chains.get(cmd.chain_id)
        if cmd.asset.upper() == chain.native.symbol.upper():
            asset, token, decimals = chain.native.symbol, None, chain.native.decimals
        else:
            listed = chain.token(cmd.asset)
            asset, token, decimals = listed.symbol, listed.address, listed.decimals
        amount = parse_amount(cmd.amount, decimals)
        if self._keys is None:
            raise RuntimeError("creating a charge needs a key store")
        charge_id = "ch_" + uuid.uuid4().hex
        # The key is made before the transaction: an HSM call must not hold the database lock.
        address = self._keys.create_key()
        now = self._clock()
        charge = Charge(
            id=charge_id,
            chain_id=chain.chain_id,
            asset=asset,
            token=token,
            amount=amount,
            address=address,
            account_id=cmd.account_id,
            status=ChargeStatus.NEW,
            paid=0,
            created_at=now,
            expires_at=now + cmd.expires_in,
            updated_at=now,
            reference=cmd.reference,
        )
        with self._uow() as uow:
            custody_store.insert_address(
                uow.connection,
                CustodyAddress(
                    address=address,
                    purpose=AddressPurpose.DEPOSIT,
                    owner_ref=charge_owner_ref(charge_id),
                    chain_id=ANY_CHAIN,
                    key_store=self._keys.kind,
                    created_at=now,
                ),
            )
            charge_store.insert_charge(uow.connection, charge)
            uow.publish([status_event(charge, None)])
            uow.audit(
                "crypto.charge_created",
                f"charge:{charge_id}",
                chain_id=chain.chain_id,
                asset=asset,
                amount=str(amount),
                address=address,
            )
            uow.commit()
        return charge

    def get(self, charge_id: str) -> Charge:
        with self._engine.connect() as conn:
            return _found(conn, charge_id)

    def charges(self, *, status: ChargeStatus | None = None, limit: int = 100) -> list[Charge]:
        """Charges, newest first."""
        with self._engine.connect() as conn:
            return charge_store.list_charges(conn, status=status, limit=limit)

    def refresh(self, charge_id: str) -> Charge:
        """Recompute one charge now (e.g. after the clock passed its expiry)."""
        with self._uow() as uow:
            charge = charge_store.find_charge(uow.connection, charge_id, for_update=True)
            if charge is None:
                raise UnknownCharge("no such charge", charge_id=charge_id)
            updated = refresh_charge(uow, charge, self._clock())
            uow.commit()
            return updated

    def expire_due(self, limit: int = 500) -> int:
        """Move open charges past their expiry on (expired, underpaid…); returns how many moved."""
        return expire_due_charges(self._engine, clock=self._clock, limit=limit)


def expire_due_charges(engine: Engine, *, clock: Clock = utc_now, limit: int = 500) -> int:
    """The charge-expiry loop's step: recompute open charges whose expiry has passed."""
    with UnitOfWork(engine, actor="crypto.charges", clock=clock) as uow:
        now = clock()
        due = charge_store.due_for_expiry(uow.connection, now, limit)
        moved = sum(refresh_charge(uow, c, now).status is not c.status for c in due)
        uow.commit()
        return moved


def _found(conn: Connection, charge_id: str) -> Charge:
    charge = charge_store.find_charge(conn, charge_id)
    if charge is None:
        raise UnknownCharge("no such charge", charge_id=charge_id)
    return charge
