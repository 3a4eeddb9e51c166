"""What goes in `x-amz-access-token` for one seller in one region: the Restricted Data Token a
restricted request asks for when Amazon grants one, else the seller's LWA access token."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from oms_amazon.adapters.sp_api import builders
from oms_amazon.adapters.sp_api.builders import RestrictedResource, SpApiRequest
from oms_amazon.adapters.sp_api.errors import AccessDenied, InvalidRequest, NotFound, UnexpectedResponse
from oms_amazon.adapters.sp_api.rdt import RestrictedTokenCache, resources_key

if TYPE_CHECKING:
    from oms_amazon.adapters.sp_api.lwa import AccessTokenProvider
    from oms_amazon.adapters.sp_api.metrics import CallObserver
    from oms_amazon.adapters.sp_api.responses import SpApiResponse
    from oms_amazon.adapters.sp_api.throttle import Clock


class SellerCredentials:
    """The seller's tokens. `send` sends createRestrictedDataToken (itself with the access token) under
    the same rate limit and retry policy as any other call."""

    def __init__(
        self,
        *,
        refresh_token: str,
        lwa: AccessTokenProvider,
        restricted_tokens: RestrictedTokenCache,
        clock: Clock,
        observer: CallObserver,
        send: Callable[[SpApiRequest], SpApiResponse],
    ) -> None:
        self._refresh_token = refresh_token
        self._lwa = lwa
        self._rdt = restricted_tokens
        self._clock = clock
        self._observer = observer
        self._send = send

    def __repr__(self) -> str:
        return f"SellerCredentials(seller_id={self._observer.seller_id!r}, region={self._observer.region!r})"

    def for_request(self, request: SpApiRequest, *, force_refresh: bool) -> str:
        """`force_refresh`: Amazon refused the last token; fetch a new access token rather than the cached one."""
        if request.restricted:
            token = self._restricted_token(request.restricted)
            if token is not None:
                return token
        return self._lwa.access_token(self._refresh_token, force_refresh=force_refresh)

    def forget_restricted(self, resources: tuple[RestrictedResource, ...]) -> None:
        """Amazon no longer accepts the cached RDT for these resources: the next call asks for a new one."""
        self._rdt.forget(self._key(resources))

    def refusal(self, resources: tuple[RestrictedResource, ...]) -> str | None:
        """Why Amazon last refused an RDT for these resources (remembered a quarter of an hour), if it did."""
        return self._rdt.refusal(self._key(resources), self._clock.monotonic())

    def _key(self, resources: tuple[RestrictedResource, ...]) -> str:
        return resources_key(self._observer.seller_id, self._observer.region, resources)

    def _restricted_token(self, resources: tuple[RestrictedResource, ...]) -> str | None:
        key = self._key(resources)
        now = self._clock.monotonic()
        cached = self._rdt.token(key, now)
        if cached is not None or self._rdt.refusal(key, now) is not None:
            return cached
        try:
            answer = self._send(builders.create_restricted_data_token(resources))
        except (AccessDenied, InvalidRequest, NotFound) as error:
            reason = f"Amazon refused a Restricted Data Token ({error.status} {error.code}: {error.message})."
            self._rdt.refuse(key, reason, self._clock.monotonic())
            self._observer.logger.warning(
                "restricted data token refused; orders are read without buyer data",
                extra={**self._observer.keys("createRestrictedDataToken"), "status": error.status, "code": error.code},
            )
            return None
        body = answer.body if isinstance(answer.body, dict) else {}
        token, expires_in = body.get("restrictedDataToken"), body.get("expiresIn")
        if not isinstance(token, str) or not isinstance(expires_in, int | float):
            raise UnexpectedResponse(
                "createRestrictedDataToken answered without restrictedDataToken and expiresIn",
                operation="createRestrictedDataToken",
            )
        self._rdt.keep(key, token, float(expires_in), self._clock.monotonic())
        return token
