"""Courier mappings, the unmapped terms of held orders, and the re-evaluation a new mapping triggers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from oms_amazon.domain.courier_mappings import CourierServiceMapping, MappingAdded, UnmappedTerm
from oms_amazon.domain.errors import Conflict, NotFound
from oms_amazon.ports import MappingFilter, Page

from fakes.accounts import FakeAccounts


@dataclass
class FakeCourierMappings:
    """Mappings by (client, id), with the one-term-per-scope rule the table's guard items enforce."""

    mappings: dict[tuple[str, str], CourierServiceMapping] = field(default_factory=dict)
    accounts: FakeAccounts | None = None  # when given, a scoped write needs its account to exist

    def _check(self, mapping: CourierServiceMapping, *, ignoring: str | None = None) -> None:
        for (client, mapping_id), other in self.mappings.items():
            if client == mapping.client_id and mapping_id != ignoring and other.scope == mapping.scope:
                raise Conflict("exists", code="mapping_exists")
        account_id = mapping.account_id
        if (
            self.accounts is not None
            and account_id is not None
            and self.accounts.get(mapping.client_id, account_id) is None
        ):
            raise NotFound("gone", code="account_not_found")

    def get(self, client_id: str, mapping_id: str) -> CourierServiceMapping | None:
        return self.mappings.get((client_id, mapping_id))

    def page(
        self, client_id: str, where: MappingFilter, *, limit: int, next_token: str | None
    ) -> Page[CourierServiceMapping]:
        items = [
            m
            for m in self.all_of_client(client_id)
            if where.account_id in (None, m.account_id) and where.marketplace in (None, m.marketplace)
        ]
        return Page(items=items, next_token=None)

    def all_of_client(self, client_id: str) -> list[CourierServiceMapping]:
        return [m for (c, _), m in sorted(self.mappings.items()) if c == client_id]

    def create(self, mapping: CourierServiceMapping) -> None:
        self._check(mapping)
        self.mappings[(mapping.client_id, mapping.id)] = mapping

    def replace(self, mapping: CourierServiceMapping, *, previous: CourierServiceMapping) -> None:
        if self.mappings.get((mapping.client_id, mapping.id)) != previous:
            raise Conflict("stale", code="version_conflict")
        self._check(mapping, ignoring=mapping.id)
        self.mappings[(mapping.client_id, mapping.id)] = mapping

    def delete(self, mapping: CourierServiceMapping) -> None:
        self.mappings.pop((mapping.client_id, mapping.id), None)


@dataclass
class FakeUnmappedTerms:
    """Held orders per (client, order id) -> (marketplace, term, seen at); counters are derived."""

    held: dict[tuple[str, str], tuple[str, str, datetime]] = field(default_factory=dict)

    def page(
        self, client_id: str, *, marketplace: str | None, limit: int, next_token: str | None
    ) -> Page[UnmappedTerm]:
        counters: dict[tuple[str, str], UnmappedTerm] = {}
        for (client, _), (mp, term, seen) in sorted(self.held.items()):
            if client != client_id or marketplace not in (None, mp):
                continue
            known = counters.get((mp, term))
            counters[(mp, term)] = UnmappedTerm(
                marketplace=mp,
                term=term,
                orders_on_hold=(known.orders_on_hold if known else 0) + 1,
                last_seen_at=max(seen, known.last_seen_at) if known else seen,
            )
        return Page(items=[counters[k] for k in sorted(counters)], next_token=None)

    def record_unmapped(self, client_id: str, marketplace: str, term: str, order_id: str, seen_at: datetime) -> bool:
        known = self.held.get((client_id, order_id))
        self.held[(client_id, order_id)] = (marketplace, term, max(seen_at, known[2]) if known else seen_at)
        return known is None or known[:2] != (marketplace, term)

    def clear_unmapped(self, client_id: str, order_id: str) -> bool:
        return self.held.pop((client_id, order_id), None) is not None


@dataclass
class RecordingReevaluation:
    """Remembers every `MappingAdded` it was told about, in order."""

    added: list[MappingAdded] = field(default_factory=list)

    def mapping_added(self, added: MappingAdded) -> None:
        self.added.append(added)
