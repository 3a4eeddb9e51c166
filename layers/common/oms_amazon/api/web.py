"""What the routes a browser opens share: the short HTML pages a seller sees on the OAuth routes, the
headers every such page carries, redirects, and the public base URL of this API.

A seller's browser reaches `/oauth/callback`, `/oauth/authorise` and `/oauth/login` without a Cognito
token, with OAuth values (a state, a code, a signed link) in the URL: pages are never cached, never hand
the URL on (`Referrer-Policy: no-referrer`), run no script and cannot be framed. Every value is escaped.
"""

from __future__ import annotations

import html
from typing import Any

from aws_lambda_powertools.event_handler import Response

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The page's own URL carries the state and the OAuth code: never hand it on.
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def html_page(status: int, title: str, message: str, note: str) -> Response[str]:
    body = (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;"
        "color:#1f2328}p.note{color:#59636e}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>"
        f'<p class="note">{html.escape(note)}</p></body></html>\n'
    )
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=dict(PAGE_HEADERS))


def redirect(location: str) -> Response[str]:
    """A 302 the browser follows at once; the URL it leaves (with a signed link in it) is never sent on."""
    headers = {**PAGE_HEADERS, "Location": location}
    return Response(status_code=302, content_type="text/html; charset=utf-8", body="", headers=headers)


def public_base_url(event: dict[str, Any], *, local: bool) -> str:
    """This API's own base URL as the browser sees it (scheme, host and stage), for links it hands out.

    In AWS it comes from what API Gateway itself sets (`requestContext.domainName`, and the stage or base
    path in front of the resource path), never from a header the caller chose. Only the local stack, whose
    gateway serves the API at its root on 127.0.0.1, reads the Host header."""
    context = event.get("requestContext") or {}
    domain = context.get("domainName")
    if domain and not local:
        full, own = str(context.get("path") or ""), str(event.get("path") or "")
        prefix = full[: len(full) - len(own)] if own and full.endswith(own) else ""
        return f"https://{domain}{prefix}"
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    host = headers.get("host") or "127.0.0.1:3000"
    return f"http://{host}"
