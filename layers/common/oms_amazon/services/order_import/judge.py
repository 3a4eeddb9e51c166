"""An Amazon order judged for the warehouse with the client's current SKUs, courier mappings and SKU
aliases (§6.4, §6.5, §6.6).

No order stays held for a term (or SKU) that now maps. A new mapping or SKU alias judges the held
orders again at once, but an import running meanwhile judged its orders with the mappings it loaded
at its start and may write them after that re-evaluation looked. So:

- every change of a client's mappings or aliases moves a marker (`MappingChanges`), before the
  held orders are judged again;
- an import about to store an order held for a reason a mapping or alias can lift reads the marker
  (once per page) and, when it moved, loads the mappings and aliases again and judges the order anew;
- what still slips between that read and the write (a mapping posted in that instant) is caught by
  the order-import tick, which judges again the held orders of every client whose marker moved in the
  last `reevaluation.SWEEP_FOR` — longer than an import can run plus the longest tick interval, so a tick always
  comes after the last write a stale import can make."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from oms_amazon.domain.accounts import Account
from oms_amazon.domain.orders import AmazonOrder, Order
from oms_amazon.domain.sku_aliases import SkuAlias, aliases_for
from oms_amazon.order_checks import evaluate
from oms_amazon.ports import MappingChanges
from oms_amazon.services.order_import.ports import RuleSources
from oms_amazon.shipping import CourierMapping
from oms_amazon.sku import SkuIndex

# The holds a new courier mapping or SKU alias can lift (§6.4, §6.5).
LIFTABLE_HOLDS = frozenset(
    {"unmapped_shipping_term", "shipping_zone_unknown", "sku_case_mismatch", "sku_ambiguous", "unknown_sku"}
)


def liftable(order: Order) -> bool:
    """Held for a reason a new mapping or alias could lift."""
    return order.status == "on_hold" and any(h.code in LIFTABLE_HOLDS for h in order.hold_reasons)


class OrderJudge:
    """Evaluates orders with the client's current SKUs and mappings, loaded once per use.

    Given `changes`, a judge about to hold an order for a reason a mapping or alias can lift checks,
    once per page (`new_page`), whether they changed since it loaded them, and judges with the new
    ones if they did."""

    def __init__(self, client_id: str, rules: RuleSources, changes: MappingChanges | None = None) -> None:
        self._client_id = client_id
        self._rules = rules
        self._changes = changes
        # The OMS SKUs found for the SKUs asked about so far: an index over them answers for those SKUs as
        # one over the whole catalogue would.
        self._asked: set[str] = set()
        self._found: set[str] = set()
        self._index: SkuIndex | None = None
        self._mappings: list[CourierMapping] | None = None
        self._aliases: list[SkuAlias] | None = None
        self._aliases_of: dict[str, dict[str, str]] = {}
        self._revision: int | None = None
        self._checked = False

    def mappings(self) -> list[CourierMapping]:
        return self._load()[0]

    def new_page(self) -> None:
        self._checked = False

    def prefetch(self, orders: Iterable[tuple[AmazonOrder, Account]]) -> None:
        """Look up the SKUs of these orders' lines (and of the aliases they use) in one go, before judging
        them one by one."""
        _, aliases = self._load()
        wanted: set[str] = set()
        for amazon, account in orders:
            wanted |= self._line_skus(amazon, self._aliases_for(account, aliases))
        self._look_up(wanted)

    def _aliases_for(self, account: Account, aliases: list[SkuAlias]) -> dict[str, str]:
        if account.id not in self._aliases_of:
            self._aliases_of[account.id] = aliases_for(account.id, aliases)
        return self._aliases_of[account.id]

    @staticmethod
    def _line_skus(amazon: AmazonOrder, aliases: dict[str, str]) -> set[str]:
        skus = {line.seller_sku for line in amazon.lines}
        return skus | {aliases[sku] for sku in skus if sku in aliases}

    def _look_up(self, skus: set[str]) -> SkuIndex:
        wanted = skus - self._asked
        if wanted or self._index is None:
            self._found.update(self._rules.skus(self._client_id, wanted) if wanted else ())
            self._asked |= wanted
            self._index = SkuIndex(self._found)
        return self._index

    def judge(
        self, amazon: AmazonOrder, account: Account, now: datetime, previous: Order | None, *, despatched: bool = False
    ) -> Order:
        order = self._evaluate(amazon, account, now, previous, despatched)
        if liftable(order) and self._changed_since_loaded():
            order = self._evaluate(amazon, account, now, previous, despatched)
        return order

    def _evaluate(
        self, amazon: AmazonOrder, account: Account, now: datetime, previous: Order | None, despatched: bool
    ) -> Order:
        mappings, aliases = self._load()
        linked = self._aliases_for(account, aliases)
        index = self._look_up(self._line_skus(amazon, linked))
        return evaluate(
            amazon, account, index, mappings, now=now, previous=previous, despatched=despatched, aliases=linked
        )

    def _load(self) -> tuple[list[CourierMapping], list[SkuAlias]]:
        if self._mappings is None or self._aliases is None:
            # The marker first: mappings read after it are at least as new as what it says.
            if self._changes is not None:
                self._revision = self._changes.revision(self._client_id)
            self._mappings = self._rules.mappings(self._client_id)
            self._aliases = self._rules.aliases(self._client_id)
            self._aliases_of = {}
        return self._mappings, self._aliases

    def _changed_since_loaded(self) -> bool:
        if self._changes is None or self._checked:
            return False
        self._checked = True
        if self._changes.revision(self._client_id) == self._revision:
            return False
        self._mappings = self._aliases = None
        return True
