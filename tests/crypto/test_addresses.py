"""Custody addresses: one deposit address per account, a hot wallet per chain, keys in the store."""

from __future__ import annotations

import threading

from pkcs11 import Attribute
from sqlalchemy import Engine, select

from twinrail.audit.store.tables import audit_entries
from twinrail.crypto.domain.custody import ANY_CHAIN, AddressPurpose
from twinrail.crypto.service.addresses import AddressService
from twinrail.crypto.service.ports import KeyStore
from twinrail.platform.outbox import outbox


def test_each_account_gets_one_deposit_address_of_its_own(
    engine: Engine, software_store: KeyStore
) -> None:
    addresses = AddressService(engine, software_store)
    alice = addresses.deposit_address("acct-alice")
    bob = addresses.deposit_address("acct-bob")
    assert alice.address != bob.address
    assert addresses.deposit_address("acct-alice") == alice
    assert (alice.purpose, alice.chain_id, alice.owner_ref) == (
        AddressPurpose.DEPOSIT,
        ANY_CHAIN,
        "acct-alice",
    )
    assert {a.address for a in addresses.deposit_addresses()} == {alice.address, bob.address}
    assert alice.address in software_store.addresses()


def test_a_deposit_address_in_the_hsm_is_a_key_labelled_with_the_address(
    engine: Engine, hsm_store: KeyStore
) -> None:
    deposit = AddressService(engine, hsm_store).deposit_address("acct-carol")
    key = hsm_store.private_key_handle(deposit.address)  # type: ignore[attr-defined]
    assert key[Attribute.LABEL] == deposit.address
    assert key[Attribute.EXTRACTABLE] is False
    assert deposit.key_store == "pkcs11"


def test_each_chain_has_its_own_hot_wallet(engine: Engine, software_store: KeyStore) -> None:
    addresses = AddressService(engine, software_store)
    first, second = addresses.hot_wallet(31337), addresses.hot_wallet(31338)
    assert first.address != second.address
    assert addresses.hot_wallet(31337) == first
    assert addresses.find(first.address.lower()) == first
    assert addresses.find("0x" + "00" * 20) is None


def test_assigning_an_address_publishes_an_event_and_an_audit_record(
    engine: Engine, software_store: KeyStore
) -> None:
    deposit = AddressService(engine, software_store).deposit_address("acct-dave")
    with engine.connect() as conn:
        topics = conn.execute(select(outbox.c.topic)).scalars().all()
        subjects = conn.execute(select(audit_entries.c.subject)).scalars().all()
    assert topics == ["crypto.custody_address_assigned"]
    assert subjects == [f"address:{deposit.address}"]


def test_racing_assigners_agree_on_one_deposit_address(
    engine: Engine, software_store: KeyStore
) -> None:
    results: list[str] = []
    start = threading.Barrier(4)

    def assign() -> None:
        start.wait()
        results.append(AddressService(engine, software_store).deposit_address("acct-erin").address)

    threads = [threading.Thread(target=assign) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 4 and len(set(results)) == 1
