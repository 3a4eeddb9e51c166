"""The connector's SP-API client drives every operation it uses against the simulator, with
Amazon's rate limits enforced and faults injected (SPEC §8.1; issue: client and simulator judged
by Amazon's models). The client runs on a virtual clock, so its waits and back-offs cost no real time;
the simulator's buckets run at a large speed-up, so they are never more generous than Amazon's in
simulated time than the client assumes."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from oms_amazon.adapters.sp_api import (
    AccessTokenCache,
    AuthorisationRejected,
    BucketRegistry,
    CallCounters,
    LwaClient,
    LwaCredentials,
    ManualClock,
    RetryPolicy,
    SpApiClient,
    SpApiConfig,
    builders,
    paginate,
)
from oms_amazon.adapters.sp_api.models import ConfirmShipmentItem, PackageDetail
from oms_amazon.domain.marketplaces import marketplace_by_code
from oms_amazon.listings_feed import CONTENT_TYPE, FEED_TYPE, QuantityUpdate, listing_skus, quantity_feed, report_errors

from local.simulator import LWA_CLIENT_ID, LWA_CLIENT_SECRET, SimulatorServer
from tests.builders import ship_to

pytestmark = pytest.mark.integration

SELLER = "A2SELLERUK01"
TOKEN = "Atzr|IwEBI-client-vs-simulator-0001"
UK = "A1F83G8C2ARO7P"


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(port=0) as running:
        yield running


@pytest.fixture
def sim(server: SimulatorServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as control:
        control.post("/_sim/reset")
        control.post("/_sim/sellers", json={"seller_id": SELLER, "refresh_token": TOKEN, "marketplaces": ["UK", "DE"]})
        items = [
            {"sku": sku, "product_type": "PRODUCT", "quantity": 1} for sku in ("TENT-2P", "MAT-BLUE", "STOVE-MINI")
        ]
        control.put(f"/_sim/sellers/{SELLER}/listings", json={"marketplace": "UK", "items": items})
        moment = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        orders = [
            {
                "AmazonOrderId": f"203-0000000-{n:07d}",
                "PurchaseDate": moment,
                "LastUpdateDate": moment,
                "MarketplaceId": UK,
                "FulfillmentChannel": "MFN",
                "ShipServiceLevel": "Std UK Dom_1",
                "ShipmentServiceLevelCategory": "Standard",
                "IsPrime": n % 2 == 0,
                "OrderStatus": "Unshipped",
                "ShippingAddress": ship_to("GB", n),
                "OrderItems": [
                    {
                        "OrderItemId": f"{n:014d}",
                        "SellerSKU": "TENT-2P",
                        "QuantityOrdered": 2,
                        "ItemPrice": {"CurrencyCode": "GBP", "Amount": "30.00"},
                    }
                ],
            }
            for n in range(1, 151)
        ]
        control.post(f"/_sim/sellers/{SELLER}/orders", json={"orders": orders})
        control.post("/_sim/rate-limits", json={"enforce": True, "speedup": 100000})
        yield control


@pytest.fixture
def client(server: SimulatorServer, sim: httpx.Client) -> Iterator[tuple[SpApiClient, CallCounters]]:
    clock = ManualClock()
    counters = CallCounters()
    with httpx.Client(timeout=30) as http:
        lwa = LwaClient(
            LwaCredentials(LWA_CLIENT_ID, LWA_CLIENT_SECRET),
            token_url=f"{server.url}/auth/o2/token",
            http=http,
            clock=clock,
            cache=AccessTokenCache(),
        )
        # The workers' budget: they may wait out Amazon's slowest buckets (here in virtual time).
        config = SpApiConfig(endpoint_override=server.url, retry=RetryPolicy(time_budget=900))
        amazon = SpApiClient(
            seller_id=SELLER,
            region=marketplace_by_code("UK").region,
            refresh_token=TOKEN,
            lwa=lwa,
            config=config,
            http=http,
            clock=clock,
            buckets=BucketRegistry(),
            metrics=counters,
        )
        yield amazon, counters


def every_operation(amazon: SpApiClient) -> dict[str, object]:
    seen: dict[str, object] = {}
    participations = amazon.get_marketplace_participations()
    seen["store"] = {p.marketplace.id for p in participations if p.participation.is_participating}

    report = amazon.create_report(marketplace_ids=[UK])
    while not (state := amazon.get_report(report.report_id)).is_finished:
        pass
    seen["listed"] = set(listing_skus(amazon.fetch_report_text(state.report_document_id or "")).merchant)

    content = json.dumps(quantity_feed(SELLER, [QuantityUpdate("TENT-2P", 7), QuantityUpdate("tent-2p", 3)])).encode()
    feed = amazon.submit_feed(feed_type=FEED_TYPE, marketplace_ids=[UK], content=content, content_type=CONTENT_TYPE)
    while not (status := amazon.get_feed(feed.feed_id)).is_finished:
        pass
    seen["feed_errors"] = set(
        report_errors(json.loads(amazon.fetch_feed_document(status.result_feed_document_id or "")))
    )
    seen["feeds"] = {f.feed_id for f in amazon.get_feeds(feed_types=[FEED_TYPE]).feeds}
    seen["feed_id"] = feed.feed_id

    seen["patch"] = amazon.patch_listing_quantity(sku="MAT-BLUE", marketplace_ids=[UK], quantity=4).accepted
    listed = paginate(
        lambda token: amazon.search_listings_items(
            marketplace_ids=[UK], page_size=builders.MAX_LISTINGS_PAGE_SIZE, page_token=token
        )
    )
    seen["searched"] = sum(len(page.items) for page in listed)

    since = datetime.now(UTC) - timedelta(days=1)
    v0_pages = paginate(
        lambda token: amazon.get_orders(
            marketplace_ids=[UK], last_updated_after=since, fulfillment_channels=["MFN"], next_token=token
        )
    )
    v0 = [o for page in v0_pages for o in page.orders]
    seen["v0_orders"] = len(v0)
    seen["v0_items"] = {item.seller_sku for item in amazon.list_order_items(v0[0].amazon_order_id)}
    searched_pages = paginate(
        lambda token: amazon.search_orders(
            marketplace_ids=[UK],
            last_updated_after=since,
            fulfilled_by=["MERCHANT"],
            included_data=["FULFILLMENT"],
            pagination_token=token,
        )
    )
    searched = [o for page in searched_pages for o in page.orders]
    seen["2026_orders"] = len(searched)
    seen["2026_prime"] = sum("PRIME" in o.programs for o in searched)

    package = PackageDetail(
        "1001",
        "Royal Mail",
        "RM123456785GB",
        datetime.now(UTC),
        (ConfirmShipmentItem(searched[0].order_items[0].order_item_id, 2),),
        shipping_method="Tracked 48",
    )
    amazon.confirm_shipment(searched[0].order_id, marketplace_id=UK, package=package)
    seen["confirmed"] = searched[0].order_id
    return seen


def test_the_client_drives_every_operation_with_limits_enforced(client, sim):
    amazon, counters = client

    seen = every_operation(amazon)

    assert seen["store"] == {"A1F83G8C2ARO7P", "A1PA6795UKMFR9"}
    assert seen["listed"] == {"TENT-2P", "MAT-BLUE", "STOVE-MINI"}
    assert seen["feed_errors"] == {"tent-2p"}, "Amazon matches SKUs case-sensitively"
    assert seen["feed_id"] in seen["feeds"]
    assert seen["patch"] is True and seen["searched"] == 3
    assert (seen["v0_orders"], seen["2026_orders"], seen["2026_prime"]) == (150, 150, 75)
    assert seen["v0_items"] == {"TENT-2P"}
    listings = {
        i["sku"]: i["quantity"]
        for i in sim.get(f"/_sim/sellers/{SELLER}/listings", params={"marketplace": "UK"}).json()["items"]
    }
    assert (listings["TENT-2P"], listings["MAT-BLUE"]) == (7, 4)
    order = sim.get(f"/_sim/sellers/{SELLER}/orders/{seen['confirmed']}").json()
    assert "1001" in json.dumps(order)
    assert counters.total("gave_up") == 0


def test_the_client_rides_out_injected_throttles_and_server_errors(client, sim):
    amazon, counters = client
    # createFeed and confirmShipment are left out: Amazon may have acted on a call whose answer was a 5xx,
    # so the client reports that outcome as unknown rather than repeating it (the worker then looks the
    # feed up, or reads the order's packages).
    operations = [
        "getMarketplaceParticipations",
        "createReport",
        "getReport",
        "getReportDocument",
        "createFeedDocument",
        "getFeed",
        "getFeeds",
        "getFeedDocument",
        "patchListingsItem",
        "searchListingsItems",
        "getOrders",
        "getOrderItems",
        "searchOrders",
    ]
    for operation in operations:
        for status in (429, 500, 503):
            sim.post("/_sim/faults", json={"operation": operation, "status": status, "rate": 0.15})
    sim.post("/_sim/config", json={"fault_seed": 7})

    seen = every_operation(amazon)

    assert seen["feed_errors"] == {"tent-2p"} and seen["2026_orders"] == 150
    injected = sim.get("/_sim/calls").json()
    assert counters.total("throttled") + counters.total("server_error") > 0
    assert sum(1 for call in injected["calls"] if call["status"] >= 429) > 0


def test_a_revoked_seller_is_an_authorisation_rejection_not_a_retry_loop(client, sim):
    amazon, _ = client
    sim.post(f"/_sim/sellers/{SELLER}/revoke", json={"revoke_access_tokens": True})

    with pytest.raises(AuthorisationRejected):
        amazon.get_marketplace_participations()

    lwa_calls = [c for c in sim.get("/_sim/calls").json()["calls"] if c["operation"] == "lwaToken"]
    assert len(lwa_calls) <= 2


def test_documents_are_gunzipped_when_amazon_compresses_them(client, sim):
    amazon, _ = client
    sim.post("/_sim/config", json={"report_gzip": True})
    report = amazon.create_report(marketplace_ids=[UK])
    while not (state := amazon.get_report(report.report_id)).is_finished:
        pass
    document = amazon.get_report_document(state.report_document_id or "")
    assert document.compression_algorithm == "GZIP"
    assert "seller-sku" in amazon.download_report_document(document)
    assert gzip.decompress(gzip.compress(b"x")) == b"x"
