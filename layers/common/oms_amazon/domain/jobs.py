"""The job messages on the workers' queues, as the schedulers queue them and the workers' handlers parse
them. Strict, every one: types are not coerced and no other key is accepted, so a malformed message fails
to parse, once, before any work (`oms_amazon.batch` sends it to the dead-letter queue)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from oms_amazon.domain.shipments import Shipment


def seller_group(merchant_id: str, region: str) -> str:
    """The FIFO message group of a seller's jobs in one region: one seller's Amazon quota is used by one
    worker at a time."""
    return f"{merchant_id}#{region}"


class Job(BaseModel):
    """A stock-sync job message, as the scheduler queues it and the worker takes it. Strict: types are
    not coerced and no other key is accepted, so a malformed message fails to parse, once, before any
    work (`oms_amazon.batch` sends it to the dead-letter queue)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    kind: Literal["stock_sync", "reconcile", "refresh_listings"] = Field(alias="job")
    client_id: str = Field(min_length=1)
    account_id: str = Field(min_length=1)
    run_id: str | None = Field(None, min_length=1)

    def to_message(self) -> dict[str, Any]:
        return {"job": self.kind, "client_id": self.client_id, "account_id": self.account_id, "run_id": self.run_id}


class ImportJob(BaseModel):
    """One import of a client's seller in one region, over all of its importing marketplaces.
    `account_id` names the account a manual run was asked for (a job of the older, per-account shape
    carries only it: its seller and region are read from the account). Strict, as every job message:
    types are not coerced and no other key is accepted (`oms_amazon.batch`)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    kind: Literal["order_import"] = Field(alias="job")
    client_id: str = Field(min_length=1)
    merchant_id: str = ""
    region: str = Field("", pattern=r"^(na|eu|fe)?$")
    trigger: Literal["schedule", "manual", "by_id", "backfill"]
    account_id: str | None = Field(None, min_length=1)
    # Instead of the watermark's window: these orders by id (any age), or a backfill window.
    order_ids: tuple[str, ...] = ()
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None

    @model_validator(mode="after")
    def _names_its_seller_or_its_account(self) -> Self:
        names_its_seller = bool(self.merchant_id and self.region)
        older_shape = not (self.merchant_id or self.region) and self.account_id is not None
        if names_its_seller or older_shape:
            return self
        raise ValueError("an import job names its seller and region, or (the older shape) only its account")

    def to_message(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "job": "order_import",
            "client_id": self.client_id,
            "merchant_id": self.merchant_id,
            "region": self.region,
            "trigger": self.trigger,
        }
        if self.account_id is not None:
            body["account_id"] = self.account_id
        if self.order_ids:
            body["order_ids"] = list(self.order_ids)
        if self.since is not None:
            body["since"] = self.since.isoformat()
        if self.until is not None:
            body["until"] = self.until.isoformat()
        return body


class ShipmentJob(BaseModel):
    """One confirmation attempt of a despatched package, as a message on the shipment queue. Strict, as
    every job message: types are not coerced and no other key is accepted (`oms_amazon.batch`)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, hide_input_in_errors=True)

    kind: Literal["confirm_shipment"] = Field(alias="job")
    client_id: str = Field(min_length=1)
    amazon_order_id: str = Field(min_length=1)
    sequence: int = Field(ge=1)
    token: str = Field(min_length=1)
    attempt: int = Field(ge=1)

    def to_message(self) -> dict[str, Any]:
        return {
            "job": "confirm_shipment",
            "client_id": self.client_id,
            "amazon_order_id": self.amazon_order_id,
            "sequence": self.sequence,
            "token": self.token,
            "attempt": self.attempt,
        }

    @classmethod
    def of(cls, shipment: Shipment) -> ShipmentJob:
        return cls(
            job="confirm_shipment",
            client_id=shipment.client_id,
            amazon_order_id=shipment.amazon_order_id,
            sequence=shipment.sequence,
            token=shipment.job_token,
            attempt=shipment.attempts + 1,
        )
