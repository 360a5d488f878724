"""A customer's screening picture: the customer, a business's beneficial owners, and the hits
that still stand after four-eyes false-positive marks.

A hit is *current* when recorded at or after its party's last screening (a later screening with
new data starts afresh; a list reload adds re-screen hits after it). A current hit is
*suppressed* when an approved mark covers it with the same entity content and party data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine

from twinrail.compliance.domain.decision import MovementDecision
from twinrail.compliance.domain.entities import IdentifierKind
from twinrail.compliance.domain.events import PartyFlagged
from twinrail.compliance.domain.false_positives import is_suppressed, party_fingerprint
from twinrail.compliance.domain.owners import (
    BeneficialOwner,
    check_owners_are_valid,
    escalate,
    owner_party_id,
    party_hit_reasons,
)
from twinrail.compliance.domain.query import build_query
from twinrail.compliance.domain.results import ScreeningResult
from twinrail.compliance.service.screening_service import ScreeningService
from twinrail.compliance.store.list_store import ListStore
from twinrail.compliance.store.party_store import PartyStore
from twinrail.platform.clock import Clock, utc_now
from twinrail.platform.db import READ_ONLY
from twinrail.platform.uow import UnitOfWork

__all__ = [
    "CustomerScreening",
    "PartyScreeningService",
    "current_hits",
    "escalate_for_party_hits",
]


@dataclass(frozen=True, slots=True)
class CustomerScreening:
    """Every current hit of a customer and its owners, each saying whether it is suppressed."""

    customer_id: str
    owners: tuple[BeneficialOwner, ...]
    hits: tuple[dict[str, Any], ...]

    @property
    def active(self) -> tuple[dict[str, Any], ...]:
        return tuple(h for h in self.hits if not h["suppressed"])

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "owners": [
                {
                    "owner_id": o.owner_id,
                    "party_id": owner_party_id(self.customer_id, o.owner_id),
                    "ownership_percent": o.ownership_percent,
                    "country": o.country,
                }  # fmt: skip
                for o in self.owners
            ],
            "hits": list(self.hits),
        }


def current_hits(conn: Connection, customer_id: str) -> CustomerScreening:
    """The customer's and its owners' current hits, marked suppressed or not."""
    store = PartyStore(conn)
    owners = tuple(store.owners(customer_id))
    parties = [customer_id, *(owner_party_id(customer_id, o.owner_id) for o in owners)]
    data = {p: store.party_data(p) for p in parties}
    screened_at = {p: store.screened_at(p) for p in parties}
    marks = store.marks_of_parties(parties)
    hits: list[dict[str, Any]] = []
    for hit in store.hits_of_parties(parties):
        since = screened_at[hit["party_id"]]
        if since is None or dt.datetime.fromisoformat(hit["recorded_at"]) < since:
            continue
        party = data[hit["party_id"]]
        party_hash = party_fingerprint(*party) if party else None
        entity_hash = store.entity_hash(hit["list"], hit["list_version"], hit["entity_id"])
        suppressed = is_suppressed(
            marks, hit["party_id"], hit["list"], hit["entity_id"], entity_hash, party_hash
        )
        hits.append({**hit, "owner": hit["party_id"] != customer_id, "suppressed": suppressed})
    return CustomerScreening(customer_id, owners, tuple(hits))


def escalate_for_party_hits(
    conn: Connection,
    customer_id: str,
    decision: MovementDecision,
    block_score: float,
    *,
    has_hits: bool | None = None,
) -> MovementDecision:
    """The decision escalated by standing hits on the customer or its beneficial owners (not
    covered by an approved false positive): review, or block at `block_score`. Called by the
    decision service inside its transaction; one indexed probe when there are no hits, none when
    the caller read `has_hits` already (see `PartyStore.hits_probe`)."""
    if has_hits is None:
        has_hits = PartyStore(conn).has_hits_of_customer(customer_id)
    if not has_hits:
        return decision
    standing = current_hits(conn, customer_id).active
    facts = [(h["owner"], float(h["score"]), h["list"], h["entity_id"]) for h in standing]
    return escalate(decision, party_hit_reasons(facts, block_score))


class PartyScreeningService:
    """Screens customers and beneficial owners, and reports what still stands."""

    def __init__(
        self,
        engine: Engine,
        screening: ScreeningService,
        *,
        clock: Clock = utc_now,
        actor: str = "compliance",
    ) -> None:
        self.engine, self.screening, self.clock, self.actor = engine, screening, clock, actor

    def set_owners(
        self, business_id: str, owners: Sequence[BeneficialOwner], *, actor: str | None = None
    ) -> CustomerScreening:
        """Replace a business's owners and screen each of them, in one transaction; audited."""
        check_owners_are_valid(owners)
        today = self.clock().date()
        queries = [
            build_query(o.name, birth_date=o.birth_date, country=o.country, today=today)
            for o in owners
        ]
        results = [self.screening.screen(q) for q in queries]  # in memory, before the write
        with UnitOfWork(self.engine, actor=actor or self.actor, clock=self.clock) as uow:
            now = self.clock()
            PartyStore(uow.connection).replace_owners(business_id, owners, now)
            lists = ListStore(uow.connection)
            for owner, result in zip(owners, results, strict=True):
                party = owner_party_id(business_id, owner.owner_id)
                lists.save_party(party, result.query, now)
                lists.record_hits(party, result.hits, "screening", now)
                uow.publish(_flags(party, result))
            uow.audit(
                "compliance.owners.set",
                f"customer:{business_id}",
                owners=len(owners),
                hits=sum(len(r.hits) for r in results),
            )
            uow.commit()
        return self.results(business_id)

    def screen_customer(
        self,
        customer_id: str,
        name: str,
        *,
        birth_date: dt.date | str | None = None,
        country: str | None = None,
        identifiers: Iterable[tuple[IdentifierKind | str, str]] = (),
    ) -> CustomerScreening:
        """Screen the customer itself (recorded under its id) and report what stands."""
        self.screening.screen_party(name, birth_date, country, identifiers, party_id=customer_id)
        return self.results(customer_id)

    def results(self, customer_id: str) -> CustomerScreening:
        """The customer's current hits and its owners'."""
        with self.engine.connect().execution_options(**READ_ONLY) as conn:
            return current_hits(conn, customer_id)


def _flags(party_id: str, result: ScreeningResult) -> list[PartyFlagged]:
    return [
        PartyFlagged(party_id, h.list_name, h.list_version, h.entity_id, h.score, "screening")
        for h in result.hits
    ]
