"""Writers racing each other, as concurrent Lambda invocations do: threads, each with its own copy of
the function (one warm container each), against moto in process. Each race runs many rounds, so an
interleaving that breaks a rule shows up in one run of the test, not one run in a hundred.

Each DynamoDB call is atomic, as on AWS (moto's backend is not safe under threads, so it serves one
DynamoDB call at a time); the races are between calls, where they are on AWS."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest

from local.functions import keep_powertools_state_per_thread
from local.moto_threads import guard_dynamodb
from tests.conftest import ApiCaller, EveryMarketplace, install_container

pytestmark = pytest.mark.integration

ROUNDS = 200  # at most: the race stops once enough rounds have raced
RACED = 8


@pytest.fixture(autouse=True)
def atomic_dynamodb_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.responses import DynamoHandler

    monkeypatch.setattr(DynamoHandler, "call_action", DynamoHandler.call_action)  # restored after the test
    guard_dynamodb()
    # Two "containers" of the API function in one process: each thread keeps its own current event, as each
    # Lambda container does (else a route may read the other request's caller and body).
    keep_powertools_state_per_thread()


def race[T](*calls: Callable[[], T]) -> list[T]:
    """Run the calls at once (a barrier releases them together); their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as error:  # reported in the test's thread below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


class TokensSeenByAmazon(EveryMarketplace):
    """Every marketplace for every seller, and a record of the refresh token each seller was asked with."""

    def __init__(self) -> None:
        self.tokens: dict[str, str] = {}

    def participations(self, marketplace: Any, merchant_id: str, refresh_token: str) -> list[Any]:
        self.tokens[merchant_id] = refresh_token
        return super().participations(marketplace, merchant_id, refresh_token)


def test_racing_token_changes_on_sibling_accounts_never_leave_an_account_showing_a_token_the_connector_lacks(
    aws, monkeypatch
):
    amazon = TokensSeenByAmazon()
    # Up to four writes a round for as many rounds as it takes to race: past a client's write allowance (api.fairness).
    monkeypatch.setenv("CLIENT_WRITE_BURST", "100000")
    install_container(participation_source=amazon)
    callers = ApiCaller(), ApiCaller()  # two warm containers of the API function
    api = callers[0]
    raced = 0
    for n in range(ROUNDS):
        seller = f"A2RACE{n:06d}"
        initial, first, second = (f"Atzr|IwEBIRaceToken{n:06d}-{which}-000{which}" for which in (0, 1, 2))
        uk = api("POST", "/accounts", {"merchant_id": seller, "marketplace": "UK", "auth_token": initial})[1]
        de = api("POST", "/accounts", {"merchant_id": seller, "marketplace": "DE"})[1]

        answers = race(
            partial(callers[0], "PATCH", f"/accounts/{uk['id']}", {"auth_token": first}),
            partial(callers[1], "PATCH", f"/accounts/{de['id']}", {"auth_token": second}),
        )
        statuses = [status for status, _ in answers]
        assert set(statuses) <= {200, 409}, statuses
        raced += 409 in statuses

        shown = {api("GET", f"/accounts/{a['id']}")[1]["authorisation"]["hint"] for a in (uk, de)}
        assert len(shown) == 1, f"round {n}: the seller's accounts disagree about its token: {shown} ({statuses})"
        # Activating asks Amazon whether the seller sells there, with the token the connector holds for it.
        status, body = api("PATCH", f"/accounts/{uk['id']}", {"active": True})
        assert status == 200, body
        used = amazon.tokens[seller]
        assert shown == {"…" + used[-4:]}, f"round {n}: accounts show {shown}, the connector used …{used[-4:]}"
        accepted = {token for token, status in zip((first, second), statuses, strict=True) if status == 200}
        assert used in (accepted or {initial}), f"round {n}: the connector holds a token no request was told it stored"
        if raced == RACED:
            break
    assert raced == RACED, f"only {raced} of {n + 1} rounds raced: the test proved nothing"


# ------------------------------------------------------------------ holds: an import racing a new mapping

UK_ID = "A1F83G8C2ARO7P"
SELLER = "A2SELLERUK01"
UNMAPPED_LEVEL = "Std UK Dom_2"  # STD UK DOM_2: held until a mapping names it (no default courier here)


def held_orders(client_id: str, count: int, *, batch: int, sku: str = "TENT-2P") -> list[Any]:
    """`count` merchant-fulfilled UK orders of an unmapped term, with an address, of one SKU."""
    from oms_amazon.domain.orders import AmazonLine, AmazonOrder, OrderPii, ShipTo

    moment = datetime.now(UTC) - timedelta(hours=1)
    address = ShipTo(name="A Buyer", address_line_1="1 High Street", postal_code="SW1A 1AA", country_code="GB")
    return [
        AmazonOrder(
            amazon_order_id=f"202-{batch:07d}-{n:07d}",
            marketplace_id=UK_ID,
            purchase_date=moment,
            last_update_date=moment,
            amazon_status="Unshipped",
            fulfillment_channel="MFN",
            ship_service_level=UNMAPPED_LEVEL,
            service_level_category="Standard",
            is_prime=False,
            is_premium=False,
            ship_to_country="GB",
            ship_by=None,
            lines=(AmazonLine(f"{batch:07d}{n:07d}", sku, 1, None),),
            pii=OrderPii(ship_to=address),
        )
        for n in range(count)
    ]


class PagedOrderSearch:
    """Amazon's order search, one page at a time; `after_page(n)` runs once page n is stored."""

    def __init__(self, pages: list[list[Any]], after_page: Callable[[int], None] = lambda n: None) -> None:
        self.pages = pages
        self.after_page = after_page

    def orders_since(self, marketplace_ids: list[str], since: datetime, api_version: str, *args: Any, **kw: Any) -> Any:
        from oms_amazon.domain.orders import OrderPage

        for n, page in enumerate(self.pages):
            yield OrderPage(page, None, f"page-{n + 2}" if n + 1 < len(self.pages) else None)
            self.after_page(n)

    def order_by_id(self, order_id: str, api_version: str) -> Any:
        raise AssertionError("not searched by id here")


@pytest.fixture
def importer(aws, monkeypatch):
    """The order-import worker of the template, with `importer.search` standing in for Amazon."""
    from oms_amazon import wiring

    class Importer:
        search = PagedOrderSearch([])

        def run(self, client_id: str) -> dict[str, int]:
            from oms_amazon.domain.jobs import ImportJob

            return wiring.container().order_import_worker.handle(
                ImportJob(job="order_import", client_id=client_id, merchant_id=SELLER, region="eu", trigger="schedule")
            )

    importer = Importer()
    monkeypatch.setattr(wiring.container(), "order_amazon", lambda *_: importer.search)
    return importer


def connect(api: ApiCaller, client_id: str) -> None:
    body = {
        "merchant_id": SELLER,
        "marketplace": "UK",
        "auth_token": "Atzr|IwEBIHeldOrdersToken-0000000001",
        "active": True,
    }
    assert api("POST", "/accounts", body, client_id=client_id)[0] == 201
    assert api("PUT", "/products/TENT-2P", {"quantity_available": 5}, client_id=client_id)[0] in (200, 201)


def map_the_term(api: ApiCaller, client_id: str) -> None:
    body = {"amazon_term": UNMAPPED_LEVEL, "courier_service": "Royal Mail 48"}
    status, answer = api("POST", "/courier-mappings", body, client_id=client_id)
    assert status == 201, answer


def still_held(client_id: str) -> list[str]:
    from oms_amazon import wiring

    return sorted(o.amazon_order_id for o in wiring.container().order_store.held(client_id))


def order_import_tick() -> None:
    from oms_amazon import wiring

    wiring.container().order_import_scheduler.tick()


def test_a_mapping_added_between_two_pages_of_an_import_maps_the_pages_stored_after_it(importer, api):
    connect(api, "acme-outdoor")
    importer.search = PagedOrderSearch(
        [held_orders("acme-outdoor", 5, batch=page) for page in range(3)],
        after_page=lambda n: map_the_term(api, "acme-outdoor") if n == 0 else None,
    )

    importer.run("acme-outdoor")

    assert still_held("acme-outdoor") == [], "no tick ran: the import itself saw the new mapping"


def test_an_sku_alias_added_between_two_pages_of_an_import_serves_the_pages_stored_after_it(importer, api):
    connect(api, "acme-outdoor")
    map_the_term(api, "acme-outdoor")

    def alias_the_sku(page: int) -> None:
        if page == 0:
            assert api("PUT", "/sku-aliases/tent-2p", {"oms_sku": "TENT-2P"})[0] in (200, 201)

    importer.search = PagedOrderSearch(
        [held_orders("acme-outdoor", 5, batch=page, sku="tent-2p") for page in range(3)], after_page=alias_the_sku
    )

    importer.run("acme-outdoor")

    assert still_held("acme-outdoor") == []


def test_the_order_import_tick_releases_orders_held_for_a_term_that_gained_a_mapping_meanwhile(importer, api):
    from oms_amazon import wiring

    connect(api, "acme-outdoor")
    store = wiring.container().order_store
    save = store.save
    posted = []

    def mapped_just_before_the_first_write(*args: Any, **kwargs: Any) -> Any:
        # The worst moment: judged without the mapping, and the mapping's own re-evaluation looks for
        # held orders before this one is written.
        if not posted:
            map_the_term(api, "acme-outdoor")
            posted.append(True)
        return save(*args, **kwargs)

    store.save = mapped_just_before_the_first_write
    importer.search = PagedOrderSearch([held_orders("acme-outdoor", 5, batch=0)])
    try:
        importer.run("acme-outdoor")
    finally:
        del store.save
    assert still_held("acme-outdoor"), "the race this test is about did not happen"

    order_import_tick()

    assert still_held("acme-outdoor") == []
    status, order = api("GET", "/orders/202-0000000-0000003")
    assert (status, order["status"], order["courier_service"]) == (200, "ready", "Royal Mail 48")


def test_the_tick_leaves_held_orders_alone_when_no_mapping_or_alias_changed(importer, api):
    connect(api, "acme-outdoor")
    importer.search = PagedOrderSearch([held_orders("acme-outdoor", 3, batch=0)])
    importer.run("acme-outdoor")

    order_import_tick()

    assert len(still_held("acme-outdoor")) == 3


def test_orders_imported_while_a_mapping_is_posted_end_up_mapped(importer):
    callers = ApiCaller(), ApiCaller()  # set-up calls; the mapping's POST, racing the import
    for round_ in range(3):
        client_id = f"racing-client-{round_}"
        connect(callers[0], client_id)
        first_page_stored = threading.Event()
        importer.search = PagedOrderSearch(
            [held_orders(client_id, 5, batch=round_ * 100 + page) for page in range(8)],
            after_page=lambda n, stored=first_page_stored: stored.set() if n == 0 else None,
        )

        def post_mapping_once_the_import_is_underway(
            client_id: str = client_id, stored: Any = first_page_stored
        ) -> None:
            assert stored.wait(timeout=60), "the import never stored its first page"
            map_the_term(callers[1], client_id)

        race(partial(importer.run, client_id), post_mapping_once_the_import_is_underway)
        order_import_tick()

        assert still_held(client_id) == [], f"round {round_}: orders left held for a term that maps"
