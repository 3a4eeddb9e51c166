"""The simulator over HTTP (a WSGI app): LWA, the SP-API routes at Amazon's paths, documents, control API.

Around every SP-API call, in Amazon's order: the access token or Restricted Data Token (403), the app's
roles for the operation (403), the seller's token bucket for the operation (429, when enforced), injected
faults, then the handler. Every answer carries `x-amzn-RequestId`; `x-amzn-RateLimit-Limit` only on 2xx,
400 and 404, never on 401/403/429.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .call import Call, Handler, Reply
from .control import CONTROL_ROUTES
from .core import FAULT_BODIES, LWA_CLIENT_ID, LWA_CLIENT_SECRET, LWA_OPERATION, RDT_PREFIX, Fault, Simulator
from .errors import ControlError, SpApiError, invalid_input
from .models import Operation, ParameterError
from .roles import may_call
from .seller_central import ROUTES as SELLER_CENTRAL_ROUTES
from .seller_central import SellerCentral
from .spapi import ROUTES
from .state import Document, Seller
from .tokens import restricted_access

JSON = "application/json"
RATE_LIMIT_HEADER_STATUSES = (400, 404)


def _json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    data = b"" if body is None else json.dumps(body).encode("utf-8")
    response = Response(data, status=status, content_type=JSON if body is not None else None)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _s3_error(status: int, code: str, message: str) -> Response:
    body = f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>'
    return Response(body, status=status, content_type="application/xml")


def _same_media_type(declared: str, sent: str | None) -> bool:
    def norm(value: str) -> str:
        return ";".join(part.strip().lower() for part in value.split(";") if part.strip())

    return sent is not None and norm(declared) == norm(sent)


class SimulatorApp:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.spapi: dict[str, tuple[Operation, Handler]] = {}
        self.control = {}
        rules = [Rule("/auth/o2/token", methods=["POST"], endpoint="lwa")]
        for method, path, api, operation_id, handler in ROUTES:
            endpoint = f"spapi:{method}:{path}"
            self.spapi[endpoint] = (sim.catalog.operation(api, operation_id), handler)
            rules.append(Rule(path, methods=[method], endpoint=endpoint))
        for method, path, control_handler in CONTROL_ROUTES:
            endpoint = f"control:{method}:{path}"
            self.control[endpoint] = control_handler
            rules.append(Rule(path, methods=[method], endpoint=endpoint))
        self.seller_central = SellerCentral(sim)
        for method, path, page in SELLER_CENTRAL_ROUTES:
            rules.append(Rule(path, methods=[method], endpoint=f"seller_central:{page}"))
        rules.append(Rule("/_sim/uploads/<document_id>", methods=["PUT"], endpoint="upload"))
        rules.append(Rule("/_sim/downloads/<document_id>", methods=["GET"], endpoint="download"))
        self.url_map = Map(rules, strict_slashes=False, merge_slashes=False)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        request = Request(environ)
        response = self.dispatch(request)
        response.headers["x-amzn-RequestId"] = str(uuid.uuid4())
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self.url_map.bind_to_environ(request.environ)
        try:
            endpoint, matched = adapter.match()
        except NotFound:
            return _json_response(404, {"errors": [{"code": "NotFound", "message": "Resource not found."}]})
        except MethodNotAllowed:
            return _json_response(405, {"errors": [{"code": "MethodNotAllowed", "message": "Method not allowed."}]})
        except HTTPException as exc:  # e.g. a redirect for a trailing slash
            return exc.get_response(request.environ)
        args = {name: str(value) for name, value in matched.items()}
        if endpoint == "lwa":
            return self.lwa(request)
        if endpoint == "upload":
            return self.upload(request, args["document_id"])
        if endpoint == "download":
            return self.download(request, args["document_id"])
        if endpoint in self.control:
            return self.control_call(request, endpoint, args)
        if endpoint.startswith("seller_central:"):
            return self.seller_central.handle(endpoint.split(":", 1)[1], request, args)
        op, handler = self.spapi[endpoint]
        return self.spapi_call(request, op, handler, args)

    # --- SP-API -------------------------------------------------------------------------------------------

    def spapi_call(self, request: Request, op: Operation, handler: Handler, args: dict[str, str]) -> Response:
        sim = self.sim
        seller_id = None
        try:
            with sim.lock:
                seller, restricted, elements = self._authorise(request, op)
                seller_id = seller.seller_id
                if sim.enforce_rate_limits and not sim.rate_limiter.try_acquire(seller_id, op.key, sim.plan_for(op)):
                    raise SpApiError(429, *FAULT_BODIES[429])
            fault = sim.draw_fault(op, op.operation_id)
            self._delay(fault)
            if fault and fault.status and fault.phase == "before":
                raise SpApiError(fault.status, *FAULT_BODIES[fault.status])
            query = sim.catalog.parse_query(op, request.args.to_dict(flat=False))
            body = self._json_body(request, op)
            with sim.lock:
                base_url = request.host_url.rstrip("/")
                fatal = fault if fault and fault.kind == "fatal" else None
                call = Call(
                    sim,
                    op,
                    seller,
                    args,
                    query,
                    body,
                    base_url,
                    restricted=restricted,
                    data_elements=elements,
                    fault=fatal,
                )
                reply = handler(call)
            if fault and fault.status and fault.phase == "after":
                raise SpApiError(fault.status, *FAULT_BODIES[fault.status])
        except ParameterError as exc:
            reply = Reply(400, invalid_input(str(exc)).body())
        except SpApiError as exc:
            extra = {"x-amzn-ErrorType": "AccessDeniedException"} if exc.status == 403 else {}
            reply = Reply(exc.status, exc.body(), extra)
        if sim.config.validate_responses:
            self._self_check(op, reply)
        sim.record(
            api=op.api,
            operation=op.operation_id,
            status=reply.status,
            seller_id=seller_id,
            method=request.method,
            path=request.path,
        )
        headers = dict(reply.headers)
        if 200 <= reply.status < 300 or reply.status in RATE_LIMIT_HEADER_STATUSES:
            headers["x-amzn-RateLimit-Limit"] = sim.plan_for(op).header()
        return _json_response(reply.status, reply.body, headers)

    def _authorise(self, request: Request, op: Operation) -> tuple[Seller, bool, frozenset[str]]:
        """The seller the token acts for, whether it is a Restricted Data Token and the data elements it
        grants here; then the app must hold one of the operation's roles ("If you call an operation for which
        you don't have the required roles, you get a 403 error": Selling Partner API Roles)."""
        seller, restricted, elements = self._token_grant(request)
        if not may_call(seller.roles, op.key):
            raise SpApiError(403, "Unauthorized", "Access to requested resource is denied.", "")
        return seller, restricted, elements

    def _token_grant(self, request: Request) -> tuple[Seller, bool, frozenset[str]]:
        token = request.headers.get("x-amz-access-token")
        if not token:
            raise SpApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "Access token is missing in the request header.",
            )
        if token.startswith(RDT_PREFIX):
            access = restricted_access(self.sim, token, request.method, request.path)
            if access is not None:
                return access[0], True, access[1]
        grant = self.sim.access_tokens.get(token)
        if grant is None or grant.seller_id is None or grant.seller_id not in self.sim.sellers:
            raise SpApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            )
        if grant.expires_real <= self.sim.real_clock():
            raise SpApiError(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
        return self.sim.sellers[grant.seller_id], False, frozenset()

    def _json_body(self, request: Request, op: Operation) -> Any:
        if op.body_parameter() is None:
            return None
        if not request.mimetype or request.mimetype != JSON:
            status = 415 if "415" in op.responses else 400
            raise SpApiError(status, "InvalidInput", "The request's Content-Type must be application/json.")
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except json.JSONDecodeError:
            raise invalid_input("Request has missing or invalid parameters and cannot be parsed.") from None

    @staticmethod
    def _delay(fault: Fault | None) -> None:
        if fault and fault.delay_seconds:
            time.sleep(fault.delay_seconds)

    def _self_check(self, op: Operation, reply: Reply) -> None:
        problems = self.sim.catalog.response_errors(op, reply.status, reply.body)
        if problems:
            with self.sim.lock:
                self.sim.contract_violations.append({"operation": op.key, "status": reply.status, "problems": problems})

    # --- LWA ----------------------------------------------------------------------------------------------

    def lwa(self, request: Request) -> Response:
        fault = self.sim.draw_fault(None, LWA_OPERATION)
        self._delay(fault)
        if fault and fault.status:
            status, body = fault.status, {"error": "server_error", "error_description": FAULT_BODIES[fault.status][1]}
        else:
            with self.sim.lock:
                status, body = self._token(request)
        self.sim.record(
            api=None, operation=LWA_OPERATION, status=status, seller_id=None, method="POST", path=request.path
        )
        return _json_response(status, body, {"Cache-Control": "no-store"})

    def _token(self, request: Request) -> tuple[int, dict[str, Any]]:
        def error(status: int, code: str, description: str) -> tuple[int, dict[str, Any]]:
            return status, {"error": code, "error_description": description}

        if request.mimetype != "application/x-www-form-urlencoded":
            return error(
                400, "invalid_request", "The request must be form-encoded (application/x-www-form-urlencoded)."
            )
        form = request.form
        if form.get("client_id") != LWA_CLIENT_ID or form.get("client_secret") != LWA_CLIENT_SECRET:
            return error(401, "invalid_client", "Client authentication failed")
        grant_type = form.get("grant_type")
        sim = self.sim
        ttl = int(sim.config.access_token_ttl_seconds)
        if grant_type == "refresh_token":
            refresh = form.get("refresh_token")
            if not refresh:
                return error(400, "invalid_request", "The request is missing a required parameter : refresh_token")
            seller = sim.seller_for_refresh_token(refresh)
            if seller is None:
                return error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        elif grant_type == "authorization_code":
            code = form.get("code")
            if not code:
                return error(400, "invalid_request", "The request is missing a required parameter : code")
            seller = sim.redeem_auth_code(code)
            if seller is None:
                return error(400, "invalid_grant", "The request has an invalid grant parameter : code")
        elif grant_type == "client_credentials":
            if not form.get("scope"):
                return error(400, "invalid_request", "The request is missing a required parameter : scope")
            token = sim.issue_access_token(None)
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": ttl}
        elif not grant_type:
            return error(400, "invalid_request", "The request is missing a required parameter : grant_type")
        else:
            return error(400, "unsupported_grant_type", f"The grant type '{grant_type}' is not supported.")
        token = sim.issue_access_token(seller.seller_id)
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": ttl,
            "refresh_token": seller.refresh_token,
        }

    # --- documents (the pre-signed S3 urls Amazon hands out) -------------------------------------------------

    def _document(self, document_id: str) -> Document | Response:
        """The document a pre-signed url points at, or S3's refusal (unknown key, expired url)."""
        document = self.sim.documents.get(document_id)
        if document is None:
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        if self.sim.real_clock() - document.issued_real > self.sim.config.document_url_ttl_seconds:
            return _s3_error(403, "AccessDenied", "Request has expired")
        return document

    def upload(self, request: Request, document_id: str) -> Response:
        with self.sim.lock:
            document = self._document(document_id)
            if isinstance(document, Response):
                return document
            if document.kind != "feed_input":
                return _s3_error(403, "AccessDenied", "Access Denied")
            # The url is signed for the contentType given to createFeedDocument; S3 refuses any other.
            if not _same_media_type(document.content_type, request.headers.get("Content-Type")):
                return _s3_error(
                    403,
                    "SignatureDoesNotMatch",
                    f"The request signature we calculated does not match the signature you provided: the url was "
                    f"signed for Content-Type '{document.content_type}'.",
                )
            document.content = request.get_data()
        return Response(b"", status=200)

    def download(self, request: Request, document_id: str) -> Response:
        with self.sim.lock:
            document = self._document(document_id)
            if isinstance(document, Response):
                return document
            if document.content is None:
                return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
            response = Response(document.content, status=200, content_type=document.content_type)
            if document.compression and request.args.get("contentEncoding") == "gzip":
                response.headers["Content-Encoding"] = "gzip"
            return response

    # --- control API ----------------------------------------------------------------------------------------

    def control_call(self, request: Request, endpoint: str, args: dict[str, str]) -> Response:
        body = None
        raw = request.get_data(as_text=True)
        try:
            if raw.strip():
                try:
                    body = json.loads(raw)
                except json.JSONDecodeError as exc:
                    raise ControlError(f"the body is not valid JSON: {exc}") from None
            with self.sim.lock:
                status, result = self.control[endpoint](self.sim, body, request.args.to_dict(flat=False), args)
        except ControlError as exc:
            status, result = (
                exc.status,
                {"error": {"code": "bad_request" if exc.status == 400 else "not_found", "message": str(exc)}},
            )
        return _json_response(status, result)
