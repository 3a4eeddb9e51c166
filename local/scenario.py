"""`make run`: the connector's main job played on the local stack through the public API only,
as an OMS would call it. Prints what happens as readable tables; exits non-zero on the first step
that does not behave as the product promises."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from local.stack import LocalStack, Ports

CLIENT = "acme-outdoor"
OTHER_CLIENT = "bluebird-gifts"
SELLER = "A2SELLERUK01"
LEGACY_MWS_TOKEN = "amzn.mws.4ea38b7b-f563-7709-4bae-87aea1b2c3d4"
REFRESH_TOKEN = "Atzr|IwEBIPk-local-scenario-refresh-token-0001"  # the simulator's seller token (local only)


class ScenarioFailed(Exception):
    pass


@dataclass
class Api:
    base_url: str
    client_id: str
    http: httpx.Client = field(default_factory=lambda: httpx.Client(timeout=30))

    def call(self, method: str, path: str, body: Any = None, *, client_id: str | None = None) -> httpx.Response:
        headers = {"X-Client-Id": client_id or self.client_id}
        return self.http.request(method, f"{self.base_url}{path}", json=body, headers=headers)

    def expect(self, status: int, method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
        response = self.call(method, path, body, **kwargs)
        if response.status_code != status:
            raise ScenarioFailed(
                f"{method} {path}: expected {status}, got {response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else {}


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(value.ljust(widths[i]) for i, value in enumerate(row)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("    " + line for line in lines)


def say(text: str) -> None:
    print(text, flush=True)


def step(title: str) -> Callable[[Callable[[Api, dict[str, Any]], None]], Callable[[Api, dict[str, Any]], None]]:
    def register(function: Callable[[Api, dict[str, Any]], None]) -> Callable[[Api, dict[str, Any]], None]:
        STEPS.append((title, function))
        return function

    return register


STEPS: list[tuple[str, Callable[[Api, dict[str, Any]], None]]] = []


@step("Connect the client's UK account with the seed's field names (legacy MWS token)")
def connect_uk(api: Api, state: dict[str, Any]) -> None:
    account = api.expect(
        201,
        "POST",
        "/accounts",
        {"merchantId": SELLER.lower(), "marketplace": "UK", "MWSAuthToken": LEGACY_MWS_TOKEN, "sync_stock": True},
    )
    state["uk"] = account
    auth = account["authorisation"]
    say(
        table(
            ["account", "seller", "marketplace", "active", "authorisation"],
            [
                [
                    account["id"][:8],
                    account["merchant_id"],
                    account["marketplace"],
                    account["active"],
                    f"{auth['type']} / {auth['status']}",
                ]
            ],
        )
    )
    if auth["status"] != "authorisation_required" or account["active"]:
        raise ScenarioFailed("a legacy MWS token must leave the account inactive and waiting for authorisation")


@step("Refuse custom AWS access keys (both set, then one left set)")
def refuse_keys(api: Api, state: dict[str, Any]) -> None:
    base = {"merchant_id": SELLER, "marketplace": "DE"}
    both = api.expect(400, "POST", "/accounts", {**base, "AccessKey": "AKIAEXAMPLE", "SecretAccessKey": "secret"})
    one = api.expect(400, "POST", "/accounts", {**base, "AccessKey": "", "SecretAccessKey": "secret"})
    say(
        table(
            ["keys sent", "status", "code"],
            [
                ["AccessKey + SecretAccessKey", 400, both["error"]["code"]],
                ["SecretAccessKey only", 400, one["error"]["code"]],
            ],
        )
    )
    say(f"    message: {both['error']['message']}")
    if api.expect(200, "GET", "/accounts?marketplace=DE")["items"]:
        raise ScenarioFailed("a refused create must store nothing")


@step("Connect DE for the same seller with its SP-API refresh token (one authorisation, every marketplace)")
def connect_de(api: Api, state: dict[str, Any]) -> None:
    account = api.expect(
        201, "POST", "/accounts", {"merchant_id": SELLER, "marketplace": "A1PA6795UKMFR9", "auth_token": REFRESH_TOKEN}
    )
    state["de"] = account
    uk = api.expect(200, "GET", f"/accounts/{state['uk']['id']}")
    state["uk"] = uk
    say(
        table(
            ["marketplace", "authorisation", "hint"],
            [[a["marketplace"], a["authorisation"]["status"], a["authorisation"]["hint"]] for a in (uk, account)],
        )
    )
    if REFRESH_TOKEN in json.dumps(account) or uk["authorisation"]["status"] != "ok":
        raise ScenarioFailed("the seller's token must authorise both marketplaces and never be returned")


@step("Refuse a duplicate, a 14-minute stock delay and another client's look")
def refusals(api: Api, state: dict[str, Any]) -> None:
    duplicate = api.expect(409, "POST", "/accounts", {"merchant_id": SELLER, "marketplace": "UK"})
    delay = api.expect(400, "PATCH", f"/accounts/{state['uk']['id']}", {"stock_sync_delay_minutes": 14})
    other = api.expect(404, "GET", f"/accounts/{state['uk']['id']}", client_id=OTHER_CLIENT)
    say(
        table(
            ["attempt", "status", "code"],
            [
                ["same seller + marketplace again", 409, duplicate["error"]["code"]],
                ["stock_sync_delay_minutes = 14", 400, delay["error"]["code"]],
                [f"{OTHER_CLIENT} reads {CLIENT}'s account", 404, other["error"]["code"]],
            ],
        )
    )


@step("Activate the accounts when the client is ready")
def activate(api: Api, state: dict[str, Any]) -> None:
    rows = []
    for key in ("uk", "de"):
        account = api.expect(
            200, "PATCH", f"/accounts/{state[key]['id']}", {"active": True, "version": state[key]["version"]}
        )
        state[key] = account
        rows.append([account["marketplace"], account["active"], account["version"], account["next_stock_sync_at"]])
    say(table(["marketplace", "active", "version", "next stock sync"], rows))


def play(ports: Ports | None = None) -> int:
    started = time.monotonic()
    say("Starting the local stack (moto, API gateway)…")
    stack = LocalStack(ports=ports or Ports(gateway=0, simulator=0, moto=0), log_level="WARNING").start()
    api = Api(stack.api_url, CLIENT)
    state: dict[str, Any] = {}
    try:
        for number, (title, function) in enumerate(STEPS, start=1):
            say(f"\n[{number}/{len(STEPS)}] {title}")
            function(api, state)
    except (ScenarioFailed, httpx.HTTPError) as error:
        say(f"\nScenario FAILED: {error}")
        return 1
    finally:
        api.http.close()
        stack.stop()
    say(f"\nScenario complete in {time.monotonic() - started:.1f} s: every step behaved as specified.")
    return 0


if __name__ == "__main__":
    sys.exit(play())
