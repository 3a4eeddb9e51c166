"""Seller Central in a browser (SPEC §8.1): the pages a seller clicks through to authorise an app, in both of
Amazon's workflows, redirecting exactly as Amazon documents.

Website workflow ("Website authorization workflow"): the app sends the seller to
`/apps/authorize/consent?application_id&state[&version=beta][&redirect_uri]`; the seller, signed in to
Seller Central (here: picks who they are), chooses **Confirm** and Amazon loads the app's redirect URI with
`state`, `selling_partner_id` and `spapi_oauth_code`; **Cancel** sends the browser back with Login with
Amazon's error response instead of a code — `error=access_denied`, `error_description`, `state` (LWA's
"Authorization Code Grant": an authorization the user refuses comes back as `error` with `state`).

Appstore workflow ("Selling Partner Appstore authorization workflow"): the seller opens the app's Appstore
page `/selling-partner-appstore/dp/<application_id>` and chooses **Authorise Now**; the consent page (without
a `state`: nothing comes from the app yet) offers **Log in to <app> now**, and Amazon loads the app's log-in
URI with `amazon_callback_uri` (`/apps/authorize/confirm/<application_id>` here), `amazon_state`,
`selling_partner_id` and `version=beta` for a draft app. The app signs its user in and sends the browser to
`amazon_callback_uri` with `redirect_uri`, `amazon_state`, `state` (and `version=beta`); Amazon then loads
the redirect URI with `state`, `selling_partner_id` and `spapi_oauth_code`.

Amazon's refusals on these pages: MD1000 (a draft app authorised without `version=beta`), MD5101 (a
redirect URI that is not one of the app's) — the "Authorization Errors" page of the SP-API docs. The app's
registration (redirect URIs, log-in URI, name, draft) is control-API config (`POST /_sim/config`).
"""

from __future__ import annotations

import html
import secrets
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from .core import APPLICATION_ID, AmazonState, Simulator

CONSENT_PATH = "/apps/authorize/consent"
CONFIRM_PATH = "/apps/authorize/confirm/<application_id>"
APPSTORE_PATH = "/selling-partner-appstore/dp/<application_id>"
AMAZON_STATE_TTL_SECONDS = 600.0
MAX_PARAMETER = 2048
CANCELLED = "The selling partner cancelled the authorization of the application."

ROUTES: tuple[tuple[str, str, str], ...] = (
    ("GET", CONSENT_PATH, "consent_page"),
    ("POST", CONSENT_PATH, "consent_decision"),
    ("GET", CONFIRM_PATH, "appstore_confirm"),
    ("GET", APPSTORE_PATH, "appstore_page"),
)

STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0;color:#0f1111;background:#fff}"
    "header{background:#232f3e;color:#fff;padding:.75rem 1.5rem;font-weight:600}"
    "main{max-width:40rem;margin:2rem auto;padding:0 1rem}"
    "label{display:block;margin:1rem 0 .25rem;font-weight:600}"
    "select{font-size:1rem;padding:.35rem}"
    ".actions{margin-top:1.5rem;display:flex;gap:.75rem}"
    "button{font-size:1rem;padding:.5rem 1.25rem;border-radius:.5rem;border:1px solid #888c8c;background:#fff}"
    "button.primary{background:#ffd814;border-color:#fcd200}"
    ".error{border-left:4px solid #c40000;padding:.5rem 1rem;background:#fff5f5}"
    "ul{line-height:1.6}"
)


class SellerCentral:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def handle(self, name: str, request: Request, args: dict[str, str]) -> Response:
        handler = getattr(self, name)
        response: Response = handler(request, **args)
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    # --- pages ---------------------------------------------------------------------------------------

    def appstore_page(self, request: Request, application_id: str) -> Response:
        if application_id != APPLICATION_ID:
            return _error_page(404, "Application not found", "No application in the Appstore has this id.")
        config = self.sim.config
        query = {"application_id": application_id}
        if config.app_draft:
            query["version"] = "beta"
        seller = request.args.get("seller_id")
        if seller:
            query["seller_id"] = seller
        body = (
            f"<h1>{html.escape(config.app_name)}</h1>"
            "<p>Selling Partner Appstore · Order management</p>"
            "<p>Connects your Amazon account to your warehouse's order-management system: stock levels, "
            "orders and shipping.</p>"
            f'<form method="get" action="{CONSENT_PATH}">'
            + "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in query.items())
            + '<div class="actions"><button class="primary" type="submit" id="authorise-now">Authorise Now</button>'
            "</div></form>"
        )
        return _page(200, f"{config.app_name} - Selling Partner Appstore", body)

    def consent_page(self, request: Request) -> Response:
        args = request.args
        refused = self._refusal(args.get("application_id"), args.get("version"), args.get("redirect_uri"))
        if refused is not None:
            return refused
        state = args.get("state")
        appstore = not state
        if appstore and not self.sim.config.app_login_uri:
            return _error_page(
                400, "Authorization error", "This application has no log-in URI (POST /_sim/config app_login_uri)."
            )
        with self.sim.lock:
            sellers = sorted(self.sim.sellers.values(), key=lambda s: s.seller_id)
            choices = [(s.seller_id, s.store_name or s.seller_id) for s in sellers]
        if not choices:
            return _error_page(
                400, "Sign in to Seller Central", "No seller can sign in here: register one with POST /_sim/sellers."
            )
        chosen = args.get("seller_id") or choices[0][0]
        options = "".join(
            f'<option value="{html.escape(seller_id)}"{" selected" if seller_id == chosen else ""}>'
            f"{html.escape(name)} ({html.escape(seller_id)})</option>"
            for seller_id, name in choices
        )
        hidden = {
            "application_id": args.get("application_id", ""),
            "state": state or "",
            "version": args.get("version", ""),
            "redirect_uri": args.get("redirect_uri", ""),
        }
        app_name = html.escape(self.sim.config.app_name)
        go = f"Log in to {app_name} now" if appstore else "Confirm"
        body = (
            f"<h1>Authorise {app_name}</h1>"
            f"<p>{app_name} asks for access to your selling account:</p>"
            "<ul><li>Inventory and order tracking</li><li>Product listing</li>"
            "<li>Direct-to-consumer delivery (restricted)</li></ul>"
            f'<form method="post" action="{CONSENT_PATH}">'
            + "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in hidden.items())
            + '<label for="seller">Signed in to Seller Central as</label>'
            f'<select id="seller" name="seller_id">{options}</select>'
            '<div class="actions">'
            f'<button class="primary" type="submit" name="decision" value="confirm" id="confirm">{go}</button>'
            '<button type="submit" name="decision" value="cancel" id="cancel">Cancel</button>'
            "</div></form>"
        )
        return _page(200, f"Authorise {self.sim.config.app_name} - Seller Central", body)

    def consent_decision(self, request: Request) -> Response:
        form = request.form
        refused = self._refusal(form.get("application_id"), form.get("version") or None, form.get("redirect_uri"))
        if refused is not None:
            return refused
        state = form.get("state") or None
        decision = form.get("decision")
        seller_id = form.get("seller_id", "")
        with self.sim.lock:
            known = seller_id in self.sim.sellers
        if decision not in ("confirm", "cancel") or not known:
            return _error_page(400, "Authorization error", "Choose a seller, then Confirm or Cancel.")
        if state is None:  # the Appstore workflow: consent given, on to the app's log-in URI
            if decision == "cancel":
                return _redirect(APPSTORE_PATH.replace("<application_id>", APPLICATION_ID))
            return self._to_login_uri(request, seller_id, beta=bool(form.get("version")))
        redirect_uri = form.get("redirect_uri") or self.sim.config.app_redirect_uris[0]
        if decision == "cancel":
            return _redirect(
                _with_query(redirect_uri, {"error": "access_denied", "error_description": CANCELLED, "state": state})
            )
        with self.sim.lock:
            code = self.sim.issue_auth_code(seller_id)
        return _redirect(
            _with_query(redirect_uri, {"state": state, "selling_partner_id": seller_id, "spapi_oauth_code": code})
        )

    def appstore_confirm(self, request: Request, application_id: str) -> Response:
        """`amazon_callback_uri`: the app is back from its log-in with our `amazon_state` and its own `state`."""
        args = request.args
        refused = self._refusal(application_id, args.get("version"), args.get("redirect_uri"))
        if refused is not None:
            return refused
        amazon_state, state = args.get("amazon_state", ""), args.get("state", "")
        if not state or len(state) > MAX_PARAMETER:
            return _error_page(400, "Authorization error", "The application did not send a state.")
        with self.sim.lock:
            granted = self.sim.amazon_states.pop(amazon_state, None)
            if (
                granted is None
                or granted.application_id != application_id
                or granted.expires_real < self.sim.real_clock()
                or granted.seller_id not in self.sim.sellers
            ):
                return _error_page(
                    400,
                    "Authorization error",
                    "This authorization request has expired or was already used. Start again from the Appstore.",
                )
            code = self.sim.issue_auth_code(granted.seller_id)
        redirect_uri = args.get("redirect_uri") or self.sim.config.app_redirect_uris[0]
        return _redirect(
            _with_query(
                redirect_uri, {"state": state, "selling_partner_id": granted.seller_id, "spapi_oauth_code": code}
            )
        )

    # --- helpers -------------------------------------------------------------------------------------

    def _refusal(self, application_id: str | None, version: str | None, redirect_uri: str | None) -> Response | None:
        config = self.sim.config
        if application_id != APPLICATION_ID:
            return _error_page(
                400, "Authorization error", "We could not find the application you are trying to authorise."
            )
        if config.app_draft and version != "beta":
            return _error_page(
                400,
                "Authorization error (MD1000)",
                "This application is in Draft state: the authorization URI needs version=beta.",
            )
        if not config.app_redirect_uris or (redirect_uri and redirect_uri not in config.app_redirect_uris):
            return _error_page(
                400,
                "Authorization error (MD5101)",
                "The redirect URI is not one of the application's OAuth redirect URIs.",
            )
        return None

    def _to_login_uri(self, request: Request, seller_id: str, *, beta: bool) -> Response:
        login_uri = self.sim.config.app_login_uri
        assert login_uri is not None
        amazon_state = secrets.token_urlsafe(24)
        with self.sim.lock:
            self.sim.amazon_states[amazon_state] = AmazonState(
                seller_id=seller_id,
                application_id=APPLICATION_ID,
                expires_real=self.sim.real_clock() + AMAZON_STATE_TTL_SECONDS,
            )
        callback = request.host_url.rstrip("/") + CONFIRM_PATH.replace("<application_id>", APPLICATION_ID)
        query = {"amazon_callback_uri": callback, "amazon_state": amazon_state, "selling_partner_id": seller_id}
        if beta:
            query["version"] = "beta"
        return _redirect(_with_query(login_uri, query))


def _with_query(url: str, params: dict[str, str]) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _redirect(location: str) -> Response:
    return Response(b"", status=302, headers={"Location": location})


def _page(status: int, title: str, body: str) -> Response:
    document = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><header>amazon seller central (simulated)</header><main>{body}</main></body></html>\n"
    )
    return Response(document, status=status, content_type="text/html; charset=utf-8")


def _error_page(status: int, title: str, message: str) -> Response:
    return _page(status, title, f'<h1>{html.escape(title)}</h1><p class="error">{html.escape(message)}</p>')
