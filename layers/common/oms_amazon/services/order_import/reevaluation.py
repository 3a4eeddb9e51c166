"""Stored orders judged again with today's SKUs, mappings and account settings (§6.4, §6.5, §7): when a
mapping or SKU alias is added, in the order-import tick's sweep, when asked, and once an order is
despatched; and an operator's release of a held order (§6.6)."""

from __future__ import annotations

from datetime import datetime, timedelta

from oms_amazon.domain.courier_mappings import MappingAdded
from oms_amazon.domain.errors import Conflict, InvalidInput, NotFound
from oms_amazon.domain.orders import AmazonLine, AmazonOrder, Order, Release
from oms_amazon.observability import count, logger
from oms_amazon.ports import AccountRepository, Clock, MappingChanges
from oms_amazon.services.order_import.judge import OrderJudge, liftable
from oms_amazon.services.order_import.ports import OrderStore, RuleSources
from oms_amazon.services.order_import.writer import OrderWriter, OutboxRelay

# How long after a mapping or alias changes the tick judges the client's held orders again: an import's
# longest run (the worker's 15-minute timeout) plus the longest tick interval (60 minutes).
SWEEP_FOR = timedelta(minutes=75)


class OrderReevaluation:
    """Judges stored orders again with today's SKUs, mappings and account settings (§6.4, §7)."""

    def __init__(
        self,
        accounts: AccountRepository,
        orders: OrderStore,
        writer: OrderWriter,
        relay: OutboxRelay,
        rules: RuleSources,
        clock: Clock,
        changes: MappingChanges | None = None,
    ) -> None:
        self._accounts = accounts
        self._orders = orders
        self._writer = writer
        self._relay = relay
        self._rules = rules
        self._clock = clock
        self._changes = changes

    def reevaluate(self, client_id: str, order_id: str) -> Order:
        order = self._orders.get(client_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.", code="order_not_found")
        judge = OrderJudge(client_id, self._rules)
        return self._again(order, judge)

    def mapping_added(self, added: MappingAdded) -> None:
        self._changed(added.client_id)
        judge = OrderJudge(added.client_id, self._rules)
        released = 0
        for order in self._orders.held_for_term(added.client_id, added.amazon_term):
            if self._again(order, judge).status != "on_hold":
                released += 1
        if released:
            logger.info(
                "held orders released by a new mapping", extra={"released": released, "term": added.amazon_term}
            )

    def sku_aliased(self, client_id: str, amazon_sku: str) -> int:
        """Judges again, at once, the orders held on a line with this Amazon SKU (a new SKU alias, §6.5);
        returns how many were released."""
        self._changed(client_id)
        held = [
            order
            for order in self._orders.held(client_id)
            if any(h.extra.get("amazon_sku") == amazon_sku for h in order.hold_reasons)
        ]
        if not held:
            return 0
        judge = OrderJudge(client_id, self._rules)
        released = sum(1 for order in held if self._again(order, judge).status != "on_hold")
        logger.info("held orders judged again after a SKU alias", extra={"held": len(held), "released": released})
        return released

    def sweep(self, now: datetime | None = None) -> int:
        """The order-import tick's sweep: the held orders of every client whose mappings or aliases
        changed lately, judged again (an import may have stored some after a change's own re-evaluation
        looked); returns how many were released."""
        if self._changes is None:
            return 0
        released = judged = 0
        for client_id in self._changes.changed_recently(now or self._clock()):
            held = [order for order in self._orders.held(client_id) if liftable(order)]
            judge = OrderJudge(client_id, self._rules)
            for order in held:
                try:
                    released += self._again(order, judge).status != "on_hold"
                except Conflict:
                    logger.warning("held order kept changing; the next tick judges it again", extra=_keys(order))
            judged += len(held)
        if judged:
            logger.info("held orders judged again after new mappings", extra={"held": judged, "released": released})
            count("HeldOrdersReleasedBySweep", released)
        return released

    def _changed(self, client_id: str) -> None:
        if self._changes is not None:
            now = self._clock()
            self._changes.changed(client_id, now, sweep_until=now + SWEEP_FOR)

    def release(self, client_id: str, order_id: str, *, reason: str, by: str, courier_service: str | None) -> Order:
        """An operator overrides a held order's holds (§6.6): it becomes `ready` with the courier service
        it resolved to or the one given, and the release is recorded with who and why."""
        order = self._orders.get(client_id, order_id)
        if order is None:
            raise NotFound(f"No order {order_id}.", code="order_not_found")
        if order.status == "cancelled":
            raise Conflict(f"Order {order_id} was cancelled on Amazon; it cannot be released.", code="order_cancelled")
        if order.status != "on_hold":
            raise Conflict(f"Order {order_id} is {order.status}, not on hold.", code="order_not_held")
        courier = courier_service or order.courier_service
        if not courier:
            raise InvalidInput(
                f"Order {order_id} has no courier service (its shipping term {order.shipping_term!r} is unmapped): "
                "send courier_service with the release.",
                code="courier_service_required",
                details=[{"field": "courier_service", "reason": "required for this order"}],
            )
        now = self._clock()
        release = Release(by, now, reason, courier, tuple(h.code for h in order.hold_reasons))
        released = order.with_changes(
            status="ready",
            hold_reasons=(),
            courier_service=courier,
            release=release,
            history=(*order.history, release.to_dict()),
            updated_at=now,
            state_version=order.state_version + 1,
        )
        written, event = self._writer.write(released, order)
        if not written:
            raise Conflict(
                "The order changed while it was released; read it again and retry.", code="concurrent_update"
            )
        if event is not None:
            self._relay.send([event])
        logger.info(
            "order released by an operator",
            extra={"client_id": client_id, "amazon_order_id": order_id, "holds": list(release.holds)},
        )
        return released

    def despatched(self, client_id: str, order_id: str) -> Order | None:
        """Every unit of the order is confirmed with Amazon by the connector: the order is `shipped`."""
        order = self._orders.get(client_id, order_id)
        if order is None or order.status in ("shipped", "cancelled", "not_for_us"):
            return order
        return self._again(order, OrderJudge(client_id, self._rules), despatched=True)

    def _again(self, order: Order, judge: OrderJudge, *, despatched: bool = False) -> Order:
        account = self._accounts.get(order.client_id, order.account_id)
        if account is None:
            return order
        for _ in range(3):
            judged = judge.judge(as_amazon(order), account, self._clock(), order, despatched=despatched)
            if order.same_outcome(judged):
                return order
            written, event = self._writer.write(judged, order)
            if written:
                if event is not None:
                    self._relay.send([event])
                return judged
            fresh = self._orders.get(order.client_id, order.amazon_order_id)
            if fresh is None:
                return order
            order = fresh
        raise Conflict("The order kept changing; try again.", code="concurrent_update")


def _keys(order: Order) -> dict[str, str]:
    return {"client_id": order.client_id, "account_id": order.account_id, "amazon_order_id": order.amazon_order_id}


def as_amazon(order: Order) -> AmazonOrder:
    """What Amazon told the connector about a stored order, to judge it again (its buyer data stays
    sealed: that the address is on file is all the judgement needs)."""
    return AmazonOrder(
        amazon_order_id=order.amazon_order_id,
        marketplace_id="",
        purchase_date=order.purchase_date,
        last_update_date=order.last_update_date,
        amazon_status=order.amazon_status,
        fulfillment_channel="AFN" if order.fulfillment_channel == "AFN" else "MFN",
        ship_service_level=order.ship_service_level,
        service_level_category=order.service_level_category,
        is_prime=order.is_prime,
        is_premium=order.is_premium,
        ship_to_country=order.ship_to_country,
        ship_by=order.ship_by,
        lines=tuple(
            AmazonLine(
                line.order_item_id,
                line.seller_sku,
                line.quantity,
                line.unit_price,
                asin=line.asin,
                title=line.title,
                condition=line.condition,
                item_tax=line.item_tax,
                promotion_discount=line.promotion_discount,
                is_gift=line.is_gift,
            )
            for line in order.lines
        ),
        is_business_order=order.is_business_order,
        is_replacement=order.is_replacement,
        programs=order.programs,
        order_total=order.order_total,
        shipping_price=order.shipping_price,
        earliest_ship_date=order.earliest_ship_date,
        deliver_by=order.deliver_by,
        sales_channel=order.sales_channel,
        amazon_handles_delivery=order.amazon_handles_delivery,
        in_store_pickup=order.in_store_pickup,
        address_on_file=order.address_available,
    )
