"""Reading and writing custody addresses on the caller's connection (the caller commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select

from twinrail.crypto.domain.custody import AddressPurpose, CustodyAddress
from twinrail.crypto.store.tables import addresses

__all__ = ["find_by_address", "find_by_owner", "insert_address", "list_addresses"]


def _to_domain(row: Any) -> CustodyAddress:
    return CustodyAddress(
        address=row.address,
        purpose=AddressPurpose(row.purpose),
        owner_ref=row.owner_ref,
        chain_id=int(row.chain_id),
        key_store=row.key_store,
        created_at=row.created_at,
    )


def find_by_address(conn: Connection, address: str) -> CustodyAddress | None:
    """The custody record of `address` (checksummed), if we hold it."""
    row = conn.execute(select(addresses).where(addresses.c.address == address)).first()
    return _to_domain(row) if row else None


def find_by_owner(
    conn: Connection, purpose: AddressPurpose, owner_ref: str, chain_id: int
) -> CustodyAddress | None:
    """The address assigned to that purpose, owner and chain, if any."""
    row = conn.execute(
        select(addresses).where(
            addresses.c.purpose == purpose.value,
            addresses.c.owner_ref == owner_ref,
            addresses.c.chain_id == chain_id,
        )
    ).first()
    return _to_domain(row) if row else None


def insert_address(conn: Connection, record: CustodyAddress) -> None:
    """Insert; a second address for the same purpose/owner/chain violates the unique key."""
    conn.execute(
        insert(addresses).values(
            address=record.address,
            purpose=record.purpose.value,
            owner_ref=record.owner_ref,
            chain_id=record.chain_id,
            key_store=record.key_store,
            created_at=record.created_at,
        )
    )


def list_addresses(conn: Connection, purpose: AddressPurpose | None = None) -> list[CustodyAddress]:
    """Every custody address (of one purpose), oldest first."""
    query = select(addresses).order_by(addresses.c.created_at, addresses.c.address)
    if purpose is not None:
        query = query.where(addresses.c.purpose == purpose.value)
    return [_to_domain(row) for row in conn.execute(query)]
