"""Shipping terms and courier service mappings (SPEC §6.3, §6.4, §7): manage a client's mappings,
show what a term resolves to now, and list the terms that held orders are waiting on.

The rules (term grammar and canonical form: `oms_amazon.shipping_terms`; resolution order:
`oms_amazon.shipping`) are not this module's: it only gathers what they need: the client's mappings
(one query) and, when an account is named, its scope and default courier service.

A mapping that starts covering a term (created, or moved to another term or scope) is announced to
`HeldOrderReevaluation`, so that orders held for that term can be resolved again (§6.4). Until the
order importer exists the default, `NothingToReevaluate`, has nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

from oms_amazon.domain.accounts import Account, resolve_marketplace
from oms_amazon.domain.courier_mappings import (
    CourierServiceMapping,
    MappingAdded,
    UnmappedTerm,
    courier_service,
)
from oms_amazon.domain.errors import Conflict, InvalidInput, NotFound
from oms_amazon.observability import logger
from oms_amazon.ports import (
    AccountRepository,
    Clock,
    CourierMappingRepository,
    HeldOrderReevaluation,
    IdFactory,
    MappingFilter,
    Page,
    UnmappedTermRepository,
)
from oms_amazon.shipping import Resolution, resolve
from oms_amazon.shipping_catalogue import mapping_input_term, standard_terms
from oms_amazon.shipping_terms import ShippingTerm, derive_term, parse_term


@dataclass(frozen=True, slots=True)
class NewMapping:
    """A mapping as a caller writes it: raw text, validated and canonicalised by the service."""

    amazon_term: str
    courier_service: str
    account_id: str | None = None
    marketplace: str | None = None  # for a term such as `NextDay` that names none; else the account's
    allow_unrecognised: bool = False


@dataclass(frozen=True, slots=True)
class OrderShipping:
    """What an order says about its shipping, as either Orders API gives it (§6.3)."""

    marketplace: str
    ship_service_level: str | None = None
    service_level_category: str | None = None
    is_prime: bool = False
    ship_to_country: str | None = None
    account_id: str | None = None


@dataclass(frozen=True, slots=True)
class TermMapping:
    """A standard term of a marketplace and what it resolves to now."""

    term: ShippingTerm
    resolution: Resolution


class NothingToReevaluate:
    """The re-evaluation used until orders are imported: with no stored orders, none is held."""

    def mapping_added(self, added: MappingAdded) -> None:
        return None


class CourierMappingService:
    def __init__(
        self,
        mappings: CourierMappingRepository,
        unmapped: UnmappedTermRepository,
        accounts: AccountRepository,
        clock: Clock,
        new_id: IdFactory,
        held_orders: HeldOrderReevaluation | None = None,
    ) -> None:
        self._mappings = mappings
        self._unmapped = unmapped
        self._accounts = accounts
        self._clock = clock
        self._new_id = new_id
        self._held_orders: HeldOrderReevaluation = held_orders or NothingToReevaluate()

    # --- Mappings ----------------------------------------------------------------------------

    def get(self, client_id: str, mapping_id: str) -> CourierServiceMapping:
        mapping = self._mappings.get(client_id, mapping_id)
        if mapping is None:
            raise NotFound(f"No courier mapping {mapping_id}.", code="mapping_not_found")
        return mapping

    def page(
        self, client_id: str, where: MappingFilter, *, limit: int, next_token: str | None
    ) -> Page[CourierServiceMapping]:
        if where.account_id is not None:
            self._account(client_id, where.account_id)
        return self._mappings.page(client_id, where, limit=limit, next_token=next_token)

    def create(self, client_id: str, new: NewMapping) -> CourierServiceMapping:
        term, courier = self._term(client_id, new), courier_service(new.courier_service)
        now = self._clock()
        mapping = CourierServiceMapping(
            id=self._new_id(),
            client_id=client_id,
            amazon_term=term,
            courier_service=courier,
            account_id=new.account_id,
            created_at=now,
            updated_at=now,
        )
        self._mappings.create(mapping)
        logger.info("courier mapping created", extra=_log_keys(mapping))
        self._announce(mapping)
        return mapping

    def replace(
        self, client_id: str, mapping_id: str, new: NewMapping, *, version: int | None = None
    ) -> CourierServiceMapping:
        """Replace a mapping's term, courier service and scope (a PUT: an absent account_id is client-wide)."""
        term, courier = self._term(client_id, new), courier_service(new.courier_service)
        current = self.get(client_id, mapping_id)
        if version is not None and version != current.version:
            raise Conflict(
                f"The mapping is at version {current.version}, not {version}; read it again and retry.",
                code="version_conflict",
            )
        if (term, courier, new.account_id) == (current.amazon_term, current.courier_service, current.account_id):
            return current
        if new.account_id is not None:
            self._account(client_id, new.account_id)
        updated = current.with_changes(
            amazon_term=term,
            courier_service=courier,
            account_id=new.account_id,
            updated_at=self._clock(),
            version=current.version + 1,
        )
        self._mappings.replace(updated, previous=current)
        logger.info("courier mapping replaced", extra=_log_keys(updated))
        if updated.scope != current.scope:
            self._announce(updated)
        return updated

    def delete(self, client_id: str, mapping_id: str) -> None:
        mapping = self.get(client_id, mapping_id)
        self._mappings.delete(mapping)
        logger.info("courier mapping deleted", extra=_log_keys(mapping))

    # --- Resolution --------------------------------------------------------------------------

    def resolve(self, client_id: str, order: OrderShipping) -> Resolution:
        """What an order with this shipping would be mapped to now (`POST /shipping-terms/resolve`)."""
        term = derive_term(
            order.marketplace,
            ship_service_level=order.ship_service_level,
            service_level_category=order.service_level_category,
            is_prime=order.is_prime,
            ship_to_country=order.ship_to_country,
        )
        account = self._account_on(client_id, order.account_id, order.marketplace)
        return self._resolve(client_id, account, [term])[0].resolution

    def terms_of(self, client_id: str, marketplace: str, *, account_id: str | None = None) -> list[TermMapping]:
        """The marketplace's standard terms, each with what it maps to now (`GET /shipping-terms`)."""
        texts = standard_terms(marketplace)
        account = self._account_on(client_id, account_id, marketplace)
        return self._resolve(client_id, account, [parse_term(text) for text in texts])

    def unmapped(
        self, client_id: str, *, marketplace: str | None, limit: int, next_token: str | None
    ) -> Page[UnmappedTerm]:
        return self._unmapped.page(client_id, marketplace=marketplace, limit=limit, next_token=next_token)

    # --- Helpers -----------------------------------------------------------------------------

    def _term(self, client_id: str, new: NewMapping) -> str:
        """The canonical term of a mapping as typed (§7): Amazon's spellings, the marketplace named or
        the account's. The account is checked first: a term is never judged for another client's."""
        account = self._account(client_id, new.account_id) if new.account_id is not None else None
        marketplace = new.marketplace or (account.marketplace if account else None)
        return mapping_input_term(new.amazon_term, marketplace=marketplace, allow_unrecognised=new.allow_unrecognised)

    def _resolve(self, client_id: str, account: Account | None, terms: list[ShippingTerm]) -> list[TermMapping]:
        rules = [m.as_rule() for m in self._mappings.all_of_client(client_id)]
        account_id = account.id if account else None
        default = account.default_courier_service if account else None
        return [
            TermMapping(term, resolve(term, rules, account_id=account_id, default_courier_service=default))
            for term in terms
        ]

    def _account(self, client_id: str, account_id: str) -> Account:
        account = self._accounts.get(client_id, account_id)
        if account is None:
            raise NotFound(f"No account {account_id}.", code="account_not_found")
        return account

    def _account_on(self, client_id: str, account_id: str | None, marketplace: str) -> Account | None:
        """The named account, which must trade on `marketplace` (its orders come from no other)."""
        if account_id is None:
            return None
        account = self._account(client_id, account_id)
        wanted = resolve_marketplace(marketplace)
        if account.marketplace != wanted.code:
            raise InvalidInput(
                f"Account {account_id} is on marketplace {account.marketplace}, not {wanted.code}: ask for "
                f"{account.marketplace}, or leave account_id out.",
                code="marketplace_mismatch",
                details=[{"field": "marketplace", "reason": "differs from the account's marketplace"}],
            )
        return account

    def _announce(self, mapping: CourierServiceMapping) -> None:
        self._held_orders.mapping_added(
            MappingAdded(
                client_id=mapping.client_id,
                mapping_id=mapping.id,
                amazon_term=mapping.amazon_term,
                courier_service=mapping.courier_service,
                account_id=mapping.account_id,
            )
        )


def _log_keys(mapping: CourierServiceMapping) -> dict[str, str | None]:
    return {
        "client_id": mapping.client_id,
        "account_id": mapping.account_id,
        "mapping_id": mapping.id,
        "amazon_term": mapping.amazon_term,
    }
