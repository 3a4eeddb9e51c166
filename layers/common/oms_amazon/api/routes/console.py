"""The operator's web console (SPEC §7 `GET /console/…`): static HTML, CSS and JavaScript from the layer
(`oms_amazon/console/`), served by this function so one `sam deploy` ships it.

The files are public (the template gives `/console` and `/console/{proxy+}` `Authorizer: NONE`): a browser
must load them before anyone has signed in. They hold no data and no rule: every screen is drawn from the
public API, called with the signed-in identity — a Cognito ID token in AWS, the local gateway's
`X-Client-Id` / `X-Admin` headers locally (`/console/?as=<client_id>[&admin=true]`). `config.json` tells
the page which.

Every answer carries a Content-Security-Policy without inline script or style (scripts and styles from
this origin only; calls to this API and, in AWS, the hosted UI's token endpoint), `nosniff`, no framing and
no referrer (the URL may carry an OAuth code or Amazon's Appstore parameters); the HTML is never cached.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib.resources import files
from typing import Annotated
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path

from oms_amazon.api.web import html_page
from oms_amazon.wiring import container

router = Router()

FILE_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}\.(html|css|js|svg)")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
}
CONFIG = "config.json"
INDEX = "index.html"
FileName = Annotated[str, Path(max_length=80)]


def security_headers(*, cache_control: str) -> dict[str, str]:
    connect = "'self'"
    if not container().is_local:
        connect += " " + container().settings.console_sign_in_url
    policy = (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )
    headers = {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cache-Control": cache_control,
    }
    if not container().is_local:
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


@cache
def asset(name: str) -> str | None:
    """A file of the console as text, or None; only plain names of files that exist, never a path."""
    if not FILE_NAME.fullmatch(name):
        return None
    resource = files("oms_amazon").joinpath("console", name)
    return resource.read_text(encoding="utf-8") if resource.is_file() else None


def _file(name: str) -> Response[str]:
    text = asset(name)
    if text is None:
        response = html_page(404, "Not found", "The console has no such page.", "Open the console at /console/.")
        response.headers.update(security_headers(cache_control="no-store"))
        return response
    extension = name.rsplit(".", 1)[1]
    # The HTML is never cached (it names the scripts); scripts and styles are revalidated on every load.
    cache_control = "no-store" if extension == "html" else "no-cache"
    return Response(
        status_code=200,
        content_type=CONTENT_TYPES[extension],
        body=text,
        headers=security_headers(cache_control=cache_control),
    )


@router.get("/console", include_in_schema=False)
def console_index() -> Response[str]:
    event = router.current_event
    if not event.path.endswith("/"):
        # Relative, so /<stage>/console becomes /<stage>/console/ and the page's relative links resolve.
        query = (event.raw_event.get("multiValueQueryStringParameters") or {}).items()
        pairs = [(name, value) for name, values in query for value in values]
        location = "console/" + (f"?{urlencode(pairs)}" if pairs else "")
        return Response(
            status_code=302,
            content_type="text/html; charset=utf-8",
            body="",
            headers={**security_headers(cache_control="no-store"), "Location": location},
        )
    return _file(INDEX)


@router.get("/console/<name>", include_in_schema=False)
def console_file(name: FileName) -> Response[str]:
    if name == CONFIG:
        return Response(
            status_code=200,
            content_type="application/json",
            body=json.dumps(container().console_sign_in),
            headers=security_headers(cache_control="no-store"),
        )
    return _file(name)
