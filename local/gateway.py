"""A local API Gateway: turns HTTP requests into REST API proxy events for the function the
template routes them to, with the Cognito authorizer's claims taken from `X-Client-Id` and
`X-Admin: true`. Routes that the template marks `Authorizer: NONE` need no identity."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from base64 import b64decode
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local.functions import LocalFunctions
from local.template import ApiRoute, api_routes

log = logging.getLogger(__name__)

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own limit
STAGE = "local"


def _route_pattern(path: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{proxy\\\+\\\}", ".+", re.escape(path))
    pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
    return re.compile(f"^{pattern}$")


def match_route(routes: list[ApiRoute], method: str, path: str) -> ApiRoute | None:
    # API Gateway matches a resource whatever the trailing slash (`/console/` is the `/console` resource).
    path = path.rstrip("/") or "/"
    for route in routes:
        if route.method in (method, "ANY") and _route_pattern(route.path).match(path):
            return route
    return None


def build_event(route: ApiRoute, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    split = urlsplit(raw_path)
    pairs = parse_qsl(split.query, keep_blank_values=True)
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    claims: dict[str, str] | None = None
    lowered = {k.lower(): v for k, v in headers.items()}
    if route.authorised:
        claims = {"sub": str(uuid.uuid5(uuid.NAMESPACE_OID, lowered.get("x-client-id", "admin")))}
        if "x-client-id" in lowered:
            claims["custom:client_id"] = lowered["x-client-id"]
        if lowered.get("x-admin", "").lower() == "true":
            claims["cognito:groups"] = "admins"
    text_body: str | None
    try:
        text_body = body.decode() if body else None
        is_base64 = False
    except UnicodeDecodeError:
        from base64 import b64encode

        text_body, is_base64 = b64encode(body).decode(), True
    return {
        "resource": route.path,
        # API Gateway hands the function the decoded path (a SKU with %2F arrives with its slash).
        "path": unquote(split.path),
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in multi.items()} or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": f"/{STAGE}{split.path}",
            "stage": STAGE,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1", "userAgent": lowered.get("user-agent", "")},
            "authorizer": {"claims": claims} if claims is not None else None,
        },
        "body": text_body,
        "isBase64Encoded": is_base64,
    }


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "details": []}}).encode()


class _Server(ThreadingHTTPServer):
    """A thread per request, as many at once as callers send: API Gateway takes a burst of connections,
    so the listen queue holds 128 (socketserver's default of 5 resets connections of a flood)."""

    daemon_threads = True
    request_queue_size = 128


class LocalGateway:
    def __init__(self, functions: LocalFunctions, host: str = "127.0.0.1", port: int = 3000) -> None:
        self.functions = functions
        self.routes = api_routes()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                gateway.handle(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

        self.server = _Server((host, port), Handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.server.serve_forever, name="gateway", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD:
            self._send(request, 413, _error("payload_too_large", "The request body is too large."), {})
            request.close_connection = True
            return
        body = request.rfile.read(length) if length else b""
        method = request.command
        path = urlsplit(request.path).path
        route = match_route(self.routes, method, path)
        if route is None:
            self._send(request, 403, _error("forbidden", "Missing Authentication Token"), {})
            return
        headers = dict(request.headers.items())
        lowered = {k.lower() for k in headers}
        if route.authorised and "x-client-id" not in lowered and "x-admin" not in lowered:
            self._send(request, 401, _error("unauthorized", "A valid Cognito ID token is required."), {})
            return
        event = build_event(route, method, request.path, headers, body)
        try:
            result = self.functions.invoke(route.function, event)
        except Exception:  # a crashed function is API Gateway's 502, and the stack keeps serving
            log.warning("%s failed: answered 502", route.function, exc_info=True)
            self._send(request, 502, _error("bad_gateway", "The function failed."), {})
            return
        payload = result.get("body") or ""
        data = b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        response_headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            response_headers[name] = ", ".join(values)
        self._send(request, int(result.get("statusCode", 200)), data, response_headers)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, data: bytes, headers: dict[str, str]) -> None:
        request.send_response(status)
        headers.setdefault("Content-Type", "application/json")
        for name, value in headers.items():
            if name.lower() not in ("content-length", "connection"):
                request.send_header(name, value)
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(data)
