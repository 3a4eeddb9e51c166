"""Who is calling (SPEC §3). In AWS, API Gateway's Cognito authorizer has already checked the
token and put its claims in `requestContext.authorizer.claims`; locally the gateway fills the same
claims from `X-Client-Id` / `X-Admin`. The handler trusts nothing else."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from oms_amazon.domain.errors import Forbidden, InvalidInput, Unauthenticated

CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+=-]{0,63}")
ADMINS_GROUP = "admins"


@dataclass(frozen=True, slots=True)
class Caller:
    client_id: str | None
    is_admin: bool


def caller_from_event(event: dict[str, Any]) -> Caller:
    context = event.get("requestContext") or {}
    claims = (context.get("authorizer") or {}).get("claims") or {}
    client_id = claims.get("custom:client_id")
    groups = _groups(claims.get("cognito:groups"))
    is_admin = ADMINS_GROUP in groups
    if client_id is None and not is_admin:
        raise Unauthenticated("This request carries no client identity.")
    if client_id is not None and not (isinstance(client_id, str) and CLIENT_ID.fullmatch(client_id)):
        raise Unauthenticated("The identity's client id is not valid.")
    return Caller(client_id=client_id, is_admin=is_admin)


def acting_client(event: dict[str, Any]) -> str:
    """The client this request acts for: the caller's own, or `?client_id=` for an admin."""
    caller = caller_from_event(event)
    requested: str | None = (event.get("queryStringParameters") or {}).get("client_id")
    if requested is not None:
        if not caller.is_admin:
            raise Forbidden("Only administrators may act for another client with client_id.", code="admin_only")
        if not CLIENT_ID.fullmatch(requested):
            raise InvalidInput(
                "client_id is not a valid client id.", details=[{"field": "client_id", "reason": "format"}]
            )
        return requested
    if caller.client_id is None:
        raise InvalidInput(
            "An administrator without a client of their own must name one with ?client_id=.",
            code="client_id_required",
        )
    return caller.client_id


def client_of(router: Router) -> str:
    """The client the request that `router` is handling acts for (`acting_client`): what every route
    that reads or writes a client's data starts from."""
    return acting_client(router.current_event.raw_event)


def operator_of(event: dict[str, Any]) -> str:
    """Who did it, for an audit record: the signed-in user's e-mail or user name, else their client."""
    claims = ((event.get("requestContext") or {}).get("authorizer") or {}).get("claims") or {}
    for name in ("email", "cognito:username", "custom:client_id"):
        value = claims.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:128]
    return "unknown"


def _groups(raw: object) -> set[str]:
    # API Gateway passes `cognito:groups` as a string ("admins" or "[admins, ops]"), tests may pass a list.
    if isinstance(raw, list):
        return {str(g) for g in raw}
    if isinstance(raw, str):
        return {g for g in re.split(r"[\s,\[\]]+", raw) if g}
    return set()
