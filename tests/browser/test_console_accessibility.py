"""Basic accessibility of the console, checked in the browser on every screen: every form control has a
label and every button a name; text keeps a contrast of at least 4.5:1 against what is behind it (WCAG AA,
computed from the colours the page really draws); the keyboard reaches the main actions in a sensible order
and Enter submits a form. (A check of our own in place of axe-core: no npm package in the tool chain.)"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from local.stack import LocalStack
from tests.browser.pages import find, open_view, rows, wait_drawn, wait_for

pytestmark = pytest.mark.browser

CLIENT = "acme-outdoor"
HEADERS = {"X-Client-Id": CLIENT}
SELLER = "A2SELLERUK01"
VIEWS = ("accounts", "mappings", "orders", "stock")

# Every visible form control must have a label (or an ARIA name) and every button a name.
UNLABELLED = """
const named = (el) => (el.labels && el.labels.length) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
const visible = (el) => el.offsetParent !== null || el.getClientRects().length > 0;
const controls = [...document.querySelectorAll('input, select, textarea')]
  .filter((el) => el.type !== 'hidden' && visible(el) && !named(el));
const buttons = [...document.querySelectorAll('button, a[href]')]
  .filter((el) => visible(el) && !(el.textContent.trim() || el.getAttribute('aria-label')));
return [...controls, ...buttons].map((el) => el.outerHTML.slice(0, 120));
"""

# The contrast of every visible piece of text against the first opaque background behind it.
LOW_CONTRAST = """
const parse = (value) => { const m = value.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
  const p = m[1].split(',').map((x) => parseFloat(x)); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
const background = (el) => { for (let n = el; n; n = n.parentElement) {
  const c = parse(getComputedStyle(n).backgroundColor); if (c && c.a >= 0.99) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
const faded = (el) => { for (let n = el; n; n = n.parentElement) { if (parseFloat(getComputedStyle(n).opacity) < 1) return true; } return false; };
const found = [];
for (const el of document.querySelectorAll('body *')) {
  const text = [...el.childNodes].filter((n) => n.nodeType === 3).map((n) => n.textContent).join('').trim();
  if (!text || !el.getClientRects().length || faded(el)) continue;
  const style = getComputedStyle(el);
  if (style.visibility === 'hidden' || style.display === 'none') continue;
  const fg = parse(style.color), bg = background(el);
  const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  const ratio = (hi + 0.05) / (lo + 0.05);
  if (ratio < 4.5) found.push(`${ratio.toFixed(2)} ${el.tagName} "${text.slice(0, 40)}" ${style.color} on ${JSON.stringify(bg)}`);
}
return found;
"""

# What has the keyboard focus: its id, else its text, else its name.
FOCUSED = "const el = document.activeElement; return el.id || el.textContent.trim() || el.getAttribute('name') || '';"


@pytest.fixture
def world(browser: Any, stack: LocalStack, api: httpx.Client, sim: httpx.Client) -> dict[str, Any]:
    """A client with an account, a mapping, products, a run and a held order: every screen has content."""
    sim.post(
        "/_sim/sellers",
        json={"seller_id": SELLER, "refresh_token": "Atzr|IwEBI-a11y-refresh-token-000001", "marketplaces": ["UK"]},
    )
    sim.put(
        f"/_sim/sellers/{SELLER}/listings",
        json={"marketplace": "UK", "items": [{"sku": "tent-2p", "product_type": "TENT", "quantity": 0}]},
    )
    created = api.post(
        "/accounts",
        json={
            "merchant_id": SELLER,
            "marketplace": "UK",
            "auth_token": "Atzr|IwEBI-a11y-refresh-token-000001",
            "active": True,
            "sync_stock": True,
        },
        headers=HEADERS,
    )
    assert created.status_code == 201, created.text
    account: dict[str, Any] = created.json()
    api.post(
        "/courier-mappings", json={"amazon_term": "STD UK DOM", "courier_service": "Royal Mail 48"}, headers=HEADERS
    )
    api.put("/products/TENT-2P", json={"quantity_available": 3}, headers=HEADERS)
    queued = api.post(f"/accounts/{account['id']}/stock-sync", headers=HEADERS)
    assert queued.status_code == 202, queued.text
    assert stack.runner.wait_idle(60)
    return account


def test_every_screen_labels_its_controls_and_keeps_its_text_readable(
    browser: Any, stack: LocalStack, world: dict[str, Any], shoot: Any
) -> None:
    browser.get(f"{stack.api_url}/console/")  # the local sign-in stand-in
    find(browser, "#sign-in-client")
    assert browser.execute_script(UNLABELLED) == []
    assert browser.execute_script(LOW_CONTRAST) == []
    for view in VIEWS:
        open_view(browser, stack.api_url, CLIENT, view)
        if view == "accounts":  # with the row actions' panels open too
            browser.find_element(By.CSS_SELECTOR, "button[data-action='edit']").click()
            find(browser, "#account-panel form")
        assert browser.execute_script(UNLABELLED) == [], view
        assert browser.execute_script(LOW_CONTRAST) == [], view
    shoot("stock")


def test_the_keyboard_reaches_the_main_actions_in_order_and_enter_submits(
    browser: Any, stack: LocalStack, world: dict[str, Any], api: httpx.Client
) -> None:
    open_view(browser, stack.api_url, CLIENT, "accounts")  # a fresh page: the keyboard starts at its top
    reached: list[str] = []
    for _ in range(90):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        label = browser.execute_script(FOCUSED)
        reached.append(label)
        if label == "create-account-submit":
            break
    expected = [
        "Skip to content",
        "Amazon accounts",
        "Courier service mappings",
        "Orders",
        "Stock",
        "sign-out",
        "Authorise Now",
        "Verify",
        "Edit",
        "Delete",
        "create-account-submit",
    ]
    positions = [reached.index(name) if name in reached else -1 for name in expected]
    assert -1 not in positions and positions == sorted(positions), reached

    # The skip link takes the keyboard past the header; Enter in a field submits its form.
    browser.refresh()
    wait_drawn(browser, "accounts")
    ActionChains(browser).send_keys(Keys.TAB).perform()
    assert browser.execute_script(FOCUSED) == "Skip to content"
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    wait_for(browser, lambda: browser.execute_script(FOCUSED) == "main", "focus on the content")

    seller_id = browser.find_element(By.CSS_SELECTOR, "#create-account input[name='merchant_id']")
    marketplace = browser.find_element(By.CSS_SELECTOR, "#create-account select[name='marketplace']")
    marketplace.send_keys("Germany")
    before = browser.execute_script("return document.getElementById('main').dataset.ready")
    seller_id.send_keys(SELLER, Keys.ENTER)
    wait_drawn(browser, "accounts", before)
    assert sorted(row[1] for row in rows(browser, "Amazon accounts")) == ["Germany (DE)", "United Kingdom (UK)"]
    assert len(api.get("/accounts", headers=HEADERS).json()["items"]) == 2
