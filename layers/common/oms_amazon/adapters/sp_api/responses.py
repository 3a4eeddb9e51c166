"""Amazon's answers: a 2xx as the transport returns it, and its parsing into the typed models, where a
body of the wrong shape becomes `UnexpectedResponse` naming only the fields (their values may be buyer data)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ValidationError

from oms_amazon.adapters.sp_api.errors import UnexpectedResponse, error_from_response


@dataclass(frozen=True, slots=True)
class SpApiResponse:
    operation: str
    status: int
    headers: httpx.Headers
    body: Any
    request_id: str | None


def json_or_none(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def payload(response: SpApiResponse) -> Any:
    """Unwrap Orders v0 / Sellers `{payload, errors}`; a 2xx carrying only errors is still an error."""
    body = response.body
    if isinstance(body, dict) and "payload" in body and body["payload"] is not None:
        return body["payload"]
    if isinstance(body, dict) and body.get("errors"):
        raise error_from_response(
            operation=response.operation, status=response.status, body=body, request_id=response.request_id
        )
    raise UnexpectedResponse(
        "answer has no payload",
        operation=response.operation,
        status=response.status,
        request_id=response.request_id,
    )


def parse[M: BaseModel](model: type[M], data: SpApiResponse | Any, operation: str | None = None) -> M:
    """`model` from an answer's body, or from part of one (then `operation` names the call in the error)."""
    if isinstance(data, SpApiResponse):
        operation, body = data.operation, data.body
    else:
        body = data
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise unexpected(operation or model.__name__, exc) from None


def unexpected(operation: str, exc: ValidationError) -> UnexpectedResponse:
    # Locations only: the input values may hold buyer data.
    where = "; ".join(".".join(str(p) for p in e["loc"]) + f" ({e['type']})" for e in exc.errors()[:5])
    return UnexpectedResponse(f"answer does not match Amazon's model: {where}", operation=operation)
