"""The help page's whole journey in a browser (issue 23): the operator connects a client's UK and DE
accounts in the console (and is told, in the help page's words, that custom keys are prohibited), the
seller authorises from the simulated Selling Partner Appstore, the operator verifies and activates, maps
`STD UK DOM_1`, syncs stock, sees the case mismatch the help page warns about and fixes it, sees a held
order with its address masked and maps its `UK NEXT-PRIME` term so it is released. Then the e-mailed
7-day link: a fresh consent URL each time it is opened, and Amazon's Cancel. Another client sees none of it.

Products and Amazon's side (listings, orders) are set up through the API and the simulator's control
API; everything the operator and the seller do goes through the pages."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from local.simulator.core import APPLICATION_ID
from local.stack import LocalStack
from tests.browser.pages import (
    button,
    field,
    fill,
    find,
    open_view,
    row_with,
    rows,
    text_of,
    wait_drawn,
    wait_for,
)
from tests.polling import eventually

pytestmark = pytest.mark.browser

CLIENT = "acme-outdoor"
OTHER_CLIENT = "bluebird-gifts"
SELLER = "A2SELLERUK01"
SELLER_TOKEN = "Atzr|IwEBI-browser-journey-refresh-token-01"
UK = "A1F83G8C2ARO7P"
HEADERS = {"X-Client-Id": CLIENT}


def amazon_order(n: int, level: str, category: str, *, prime: bool = False) -> dict[str, Any]:
    moment = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "AmazonOrderId": f"202-0000000-{n:07d}",
        "PurchaseDate": moment,
        "LastUpdateDate": moment,
        "MarketplaceId": UK,
        "FulfillmentChannel": "MFN",
        "ShipServiceLevel": level,
        "ShipmentServiceLevelCategory": category,
        "IsPrime": prime,
        "OrderStatus": "Unshipped",
        "ShippingAddress": {
            "Name": "Jane Smith",
            "AddressLine1": "1 High Street",
            "City": "London",
            "PostalCode": "SW1A 1AA",
            "CountryCode": "GB",
            "Phone": "+44 20 7946 0000",
        },
        "BuyerInfo": {"BuyerEmail": "jane@marketplace.amazon.co.uk", "BuyerName": "Jane Smith"},
        "OrderItems": [
            {
                "OrderItemId": f"{n:014d}",
                "SellerSKU": "TENT-2P",
                "Title": "Two-person tent",
                "QuantityOrdered": 1,
                "ItemPrice": {"CurrencyCode": "GBP", "Amount": "89.00"},
            }
        ],
    }


def account_of(api: httpx.Client, marketplace: str) -> dict[str, Any]:
    items = api.get("/accounts", params={"marketplace": marketplace}, headers=HEADERS).json()["items"]
    assert len(items) == 1, items
    account: dict[str, Any] = items[0]
    return account


def wait_for_run(driver: Any, before: int) -> list[str]:
    """The Stock view follows a queued run by itself: wait until a new run is drawn as done."""

    def finished() -> list[str] | None:
        runs = rows(driver, "Stock sync runs")
        return runs[0] if len(runs) > before and runs[0][1] == "done" else None

    return wait_for(driver, finished, "a stock sync run drawn as done", timeout=45)


def redraw_until(driver: Any, view: str, condition: Any, what: str, timeout: float = 30) -> None:
    """Draw `view` again (its Show button) until `condition()` holds: for what a worker finishes later."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout} s: {what}"
        before = driver.execute_script("return document.getElementById('main').dataset.ready")
        driver.execute_script("window.dispatchEvent(new HashChangeEvent('hashchange'))")
        wait_drawn(driver, view, before)


def test_the_help_pages_journey_in_the_console(
    browser: Any, stack: LocalStack, api: httpx.Client, sim: httpx.Client, shoot: Any
) -> None:
    base = stack.api_url
    started = time.monotonic()

    # Amazon's side: the seller, its listings (Amazon lists the stove in lower case).
    registered = sim.post(
        "/_sim/sellers",
        json={"seller_id": SELLER, "refresh_token": SELLER_TOKEN, "marketplaces": ["UK", "DE"], "store_name": "Acme"},
    )
    assert registered.status_code == 201, registered.text
    listings = [
        {"sku": "TENT-2P", "product_type": "TENT", "quantity": 0},
        {"sku": "stove-mini", "product_type": "STOVE", "quantity": 0},
    ]
    for marketplace in ("UK", "DE"):
        put = sim.put(f"/_sim/sellers/{SELLER}/listings", json={"marketplace": marketplace, "items": listings})
        assert put.status_code == 200, put.text

    # ---- The operator connects UK and DE ("Connect > Order Integrations > Amazon", create new account).
    open_view(browser, base, CLIENT, "accounts")
    form = find(browser, "#create-account")
    assert field(form, "Active").get_attribute("value") == "false", "N until the client is ready"
    fill(form, "Seller ID (merchantId)", SELLER)
    fill(form, "AccessKey", "AKIA-PASTED-BY-MISTAKE")
    button(form, "Create").click()
    refusal = wait_for(
        browser, lambda: form.find_element(By.CSS_SELECTOR, ".alert").text, "the prohibited-keys message"
    )
    assert refusal.startswith("Custom Amazon AccessKeys/SecretAccessKeys are prohibited"), refusal
    assert "custom_access_keys_prohibited" in refusal
    shoot("01-prohibited-keys")
    assert api.get("/accounts", headers=HEADERS).json()["items"] == [], "nothing is stored"

    field(form, "AccessKey").clear()
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    button(form, "Create").click()
    wait_drawn(browser, "accounts", before)
    form = find(browser, "#create-account")
    fill(form, "Seller ID (merchantId)", SELLER)
    fill(form, "Marketplace", "DE")
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    button(form, "Create").click()
    wait_drawn(browser, "accounts", before)
    accounts = rows(browser, "Amazon accounts")
    assert sorted(row[1] for row in accounts) == ["Germany (DE)", "United Kingdom (UK)"]
    assert all(row[2] == "N" and row[3] == "needs Authorise Now" for row in accounts), accounts

    # ---- The seller starts at the Appstore: Authorise Now, consent, log in to the OMS, back to Amazon.
    browser.get(f"{stack.simulator_url}/selling-partner-appstore/dp/{APPLICATION_ID}")
    find(browser, "#authorise-now").click()
    find(browser, "#confirm").click()  # "Log in to … now": Amazon loads the app's log-in URI
    sign_in = find(browser, "#sign-in-client")  # the console's local stand-in for the hosted UI
    assert "/console/" in browser.current_url and "amazon_state" not in browser.current_url
    sign_in.send_keys(CLIENT, Keys.ENTER)
    wait_drawn(browser, "appstore")
    assert f"seller {SELLER}" in text_of(browser)
    shoot("02-appstore-pick-connection")
    find(browser, "#appstore-continue").click()
    wait_for(browser, lambda: "Amazon seller connected" in text_of(browser), "the callback's success page")
    assert f"Seller {SELLER} is now authorised for DE, UK." in text_of(browser)
    assert urlsplit(browser.current_url).path == "/oauth/callback"
    shoot("03-appstore-authorised")

    # ---- Verify, then activate UK with stock sync (the help page's options).
    open_view(browser, base, CLIENT, "accounts")
    accounts = rows(browser, "Amazon accounts")
    assert all(row[3].startswith("authorised") for row in accounts), accounts
    uk_row = row_with(browser, "Amazon accounts", "United Kingdom")
    button(uk_row, "Verify").click()
    notice = wait_for(browser, lambda: find(browser, "#account-panel .notice").text, "the verification")
    assert "Amazon accepts the authorisation" in notice and "Acme" in notice
    button(row_with(browser, "Amazon accounts", "United Kingdom"), "Edit").click()
    edit = find(browser, "#account-panel form")
    fill(edit, "Active", "true")
    field(edit, "Sync stock levels").click()
    field(edit, "Include bundles in stock sync").click()
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    button(edit, "Save").click()
    wait_drawn(browser, "accounts", before)
    assert row_with(browser, "Amazon accounts", "United Kingdom").find_elements(By.TAG_NAME, "td")[2].text == "Y"
    uk = account_of(api, "UK")
    assert uk["active"] and uk["sync_stock"] and uk["include_bundles_in_stock_sync"]

    # ---- Products (the OMS has the stove in upper case), a sync, the case mismatch, the fix.
    loaded = api.post(
        "/products/batch",
        json={
            "products": [{"sku": "TENT-2P", "quantity_available": 7}, {"sku": "STOVE-MINI", "quantity_available": 30}]
        },
        headers=HEADERS,
    )
    assert loaded.status_code in (200, 201), loaded.text
    open_view(browser, base, CLIENT, "stock", f"?account={uk['id']}")
    find(browser, "#sync-now").click()
    run = wait_for_run(browser, 0)
    assert run[4] == "1" and "sku case mismatch 1" in run[6], run  # TENT-2P sent; the stove skipped, loudly
    redraw_until(
        browser,
        "stock",
        lambda: rows(browser, "SKUs whose case differs"),
        "the SKU report with the case mismatch",
    )
    assert rows(browser, "SKUs whose case differs")[0][:2] == ["stove-mini", "STOVE-MINI"]
    shoot("04-stock-case-mismatch")
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    # Amazon's SKU cannot be changed and renaming the OMS product could break another listing: link them.
    button(row_with(browser, "SKUs whose case differs", "stove-mini"), "Link as alias").click()
    wait_drawn(browser, "stock", before)
    assert not rows(browser, "SKUs whose case differs"), "the mismatch is fixed"
    assert "No case mismatch" in text_of(browser)
    assert "Linked by SKU alias (Amazon SKU → OMS SKU): 1" in text_of(browser)
    find(browser, "#sync-now").click()
    wait_for_run(browser, 1)

    def amazon_stove() -> bool:
        items = sim.get(f"/_sim/sellers/{SELLER}/listings", params={"marketplace": "UK"}).json()["items"]
        return {i["sku"]: i["quantity"] for i in items}.get("stove-mini") == 30

    eventually(amazon_stove, timeout=30, what="Amazon holding the stove's 30 once the SKU matches")
    shoot("05-stock-runs")

    # ---- Courier service mappings: STD UK DOM_1 before any order arrives.
    open_view(browser, base, CLIENT, "mappings")
    add = find(browser, "#add-mapping")
    fill(add, "Amazon shipping term", "Std UK Dom_1")
    fill(add, "Courier service", "Royal Mail 48")
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    button(add, "Add mapping").click()
    wait_drawn(browser, "mappings", before)
    assert rows(browser, "Courier service mappings")[0][:3] == ["STD UK DOM_1", "Royal Mail 48", "all accounts"]

    # ---- Orders: one the mapping covers, one Prime next-day order nothing maps.
    put = sim.post(
        f"/_sim/sellers/{SELLER}/orders",
        json={
            "orders": [amazon_order(1, "Std UK Dom_1", "Standard"), amazon_order(2, "NextDay", "NextDay", prime=True)]
        },
    )
    assert put.status_code in (200, 201), put.text
    open_view(browser, base, CLIENT, "orders")
    importer = find(browser, "#import-orders")
    fill(importer, "Account", uk["id"])
    button(importer, "Import orders now").click()
    eventually(
        lambda: len(api.get("/orders", headers=HEADERS).json()["items"]) == 2, timeout=30, what="both orders imported"
    )
    open_view(browser, base, CLIENT, "orders", "?status=on_hold")
    held = row_with(browser, "Orders on hold", "202-0000000-0000002")
    assert "No courier service is mapped for the Amazon shipping term 'UK NEXT-PRIME'" in held.text
    shoot("06-orders-held")

    # The order's detail: the address stays masked until asked for.
    held.find_element(By.LINK_TEXT, "202-0000000-0000002").click()
    wait_drawn(browser, "order")
    assert "1 High Street" not in text_of(browser)
    assert "Two-person tent" in text_of(browser)
    show = button(browser, "Show delivery address")
    assert show.get_attribute("aria-expanded") == "false"
    show.click()
    wait_for(browser, lambda: "1 High Street" in text_of(browser), "the address, once expanded")
    assert show.get_attribute("aria-expanded") == "true"
    shoot("07-order-detail")
    browser.back()
    wait_drawn(browser, "orders")

    # The fix named on the hold: map the term (the form comes filled in; Enter submits it).
    button(row_with(browser, "Orders on hold", "202-0000000-0000002"), "Map UK NEXT-PRIME").click()
    wait_drawn(browser, "mappings")
    assert field(browser, "Amazon shipping term").get_attribute("value") == "UK NEXT-PRIME"
    assert rows(browser, "Unmapped terms")[0][:3] == ["UK NEXT-PRIME", "UK", "1"]
    courier = browser.switch_to.active_element
    assert courier.get_attribute("id") == "add-mapping-courier", "the courier service is focused"
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    courier.send_keys("DPD Next Day", Keys.ENTER)
    wait_drawn(browser, "mappings", before)
    assert "No order is held for an unmapped term." in text_of(browser)
    open_view(browser, base, CLIENT, "orders", "?status=on_hold")
    assert "No order is on hold." in text_of(browser)
    open_view(browser, base, CLIENT, "orders", "?status=ready")
    released = row_with(browser, "Orders ready", "202-0000000-0000002")
    assert "DPD Next Day" in released.text
    shoot("08-orders-released")

    # ---- Authorise Now by e-mail: a 7-day link that opens a fresh consent URL each time.
    open_view(browser, base, CLIENT, "accounts")
    shoot("09-accounts")
    button(row_with(browser, "Amazon accounts", "Germany"), "Authorise Now").click()
    button(find(browser, "#account-panel"), "Create a link to e-mail").click()
    # (No screenshot from here on: the page shows the signed link.)
    link = wait_for(browser, lambda: find(browser, "#account-panel .link-box").get_attribute("value"), "the link")
    assert link.startswith(f"{base}/oauth/authorise?link=")
    with httpx.Client(timeout=30) as outside:  # as the client's mail reader would open it
        first, second = (outside.get(link, follow_redirects=False) for _ in range(2))
    assert first.status_code == second.status_code == 302
    consents = [urlsplit(r.headers["location"]) for r in (first, second)]
    assert all(f"{c.scheme}://{c.netloc}{c.path}" == f"{stack.simulator_url}/apps/authorize/consent" for c in consents)
    states = [parse_qs(c.query)["state"][0] for c in consents]
    assert states[0] != states[1], "a fresh signed state each time"
    browser.get(link)
    find(browser, "#cancel").click()  # the seller changes their mind on Amazon's consent page
    wait_for(browser, lambda: "Amazon authorisation not given" in text_of(browser), "the callback after Cancel")
    assert "cancelled" in text_of(browser)

    # ---- Another client sees none of it.
    open_view(browser, base, OTHER_CLIENT, "accounts")
    assert "No Amazon account yet" in text_of(browser)
    open_view(browser, base, OTHER_CLIENT, "orders", "?status=")
    assert "No orders." in text_of(browser)
    open_view(browser, base, OTHER_CLIENT, "mappings")
    assert "No mapping yet." in text_of(browser)
    assert time.monotonic() - started < 60, "the journey stays quick"
