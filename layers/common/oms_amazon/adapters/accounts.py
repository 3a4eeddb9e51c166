"""Accounts in DynamoDB.

Items (all in the client's partition):
- `CLIENT#<client>` / `ACCOUNT#<id>`: the account. Sparse index keys make due work a Query:
  `GSI1` holds accounts whose stock sync is enabled, ordered by when they are next due;
  `GSI2` holds accounts whose order import is enabled.
- `CLIENT#<client>` / `SELLERMARKET#<merchant>#<marketplace>`: the uniqueness guard for
  (client, seller, marketplace), written in the same transaction as the account.
- `CLIENT#<client>` / `DELETEDACCOUNT#<id>`: a deleted account's tombstone, put in the transaction that
  removes the account and its guard, so the account is gone for the API at once while its clean-up can
  always be finished; in `GSI1` under `ACCOUNT_CLEANUP` by when it was deleted, for the tick's sweep.
  The workers' writes of an account's own records (a stock run, an imported order) carry a condition
  that it does not exist (`unless_deleted`), in the same transaction: a job that read the account
  before the DELETE writes nothing for it after. The condition is on the tombstone rather than on the
  account item because the account item is written often (claims, watermarks, run summaries, PATCH),
  and on DynamoDB an item in one transaction makes a concurrent write of it fail with a conflict; only
  the DELETE writes the tombstone. It lives until the sweep, two hours on, longer than any job runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from oms_amazon.adapters.dynamodb import (
    cancellation_codes,
    dynamodb_errors,
    error_code,
    iso,
    parse_iso,
)
from oms_amazon.adapters.items import from_wire, key, query_page, to_wire
from oms_amazon.domain.accounts import Account, Authorisation
from oms_amazon.domain.errors import Conflict, DependencyUnavailable
from oms_amazon.ports import AccountFilter, Page
from oms_amazon.stock import StockRules

STOCK_SYNC_INDEX = "GSI1"
ORDER_IMPORT_INDEX = "GSI2"
STOCK_SYNC_PARTITION = "STOCK_SYNC"
ORDER_IMPORT_PARTITION = "ORDER_IMPORT"
CLEANUP_PARTITION = "ACCOUNT_CLEANUP"


def tombstone_sk(account_id: str) -> str:
    return f"DELETEDACCOUNT#{account_id}"


def unless_deleted(table: str, client_id: str, account_id: str) -> dict[str, Any]:
    """A transaction item that cancels its transaction once the account is deleted (see the module)."""
    return {
        "ConditionCheck": {
            "TableName": table,
            "Key": key(client_pk(client_id), tombstone_sk(account_id)),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def client_pk(client_id: str) -> str:
    return f"CLIENT#{client_id}"


def account_sk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def seller_market_sk(merchant_id: str, marketplace: str) -> str:
    return f"SELLERMARKET#{merchant_id}#{marketplace}"


def account_to_item(account: Account) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": client_pk(account.client_id),
        "SK": account_sk(account.id),
        "entity": "account",
        "id": account.id,
        "client_id": account.client_id,
        "merchant_id": account.merchant_id,
        "marketplace": account.marketplace,
        "name": account.name,
        "active": account.active,
        "sync_stock": account.sync_stock,
        "stock_sync_delay_minutes": account.stock_sync_delay_minutes,
        "include_bundles_in_stock_sync": account.include_bundles_in_stock_sync,
        "import_orders": account.import_orders,
        "default_courier_service": account.default_courier_service,
        "stock_rules": _rules_to_item(account.stock_rules),
        "authorisation": {k: v for k, v in account.authorisation.to_dict().items() if v is not None},
        "created_at": iso(account.created_at),
        "updated_at": iso(account.updated_at),
        "version": account.version,
        "revision": account.revision,
        "last_stock_sync": account.last_stock_sync,
        "last_stock_sync_started_at": _iso_or_none(account.last_stock_sync_started_at),
        "last_order_import_at": _iso_or_none(account.last_order_import_at),
        "secret_version": account.secret_version,
    }
    due = account.next_stock_sync_at
    if due is not None:
        item["GSI1PK"] = STOCK_SYNC_PARTITION
        item["GSI1SK"] = f"{iso(due)}#{account.client_id}#{account.id}"
    if account.active and account.import_orders and account.authorisation.status == "ok":
        item["GSI2PK"] = ORDER_IMPORT_PARTITION
        item["GSI2SK"] = f"{account.client_id}#{account.id}"
    return item


def account_from_item(item: dict[str, Any]) -> Account:
    auth = item.get("authorisation") or {}
    return Account(
        id=item["id"],
        client_id=item["client_id"],
        merchant_id=item["merchant_id"],
        marketplace=item["marketplace"],
        name=item["name"],
        active=bool(item["active"]),
        sync_stock=bool(item["sync_stock"]),
        stock_sync_delay_minutes=int(item["stock_sync_delay_minutes"]),
        include_bundles_in_stock_sync=bool(item["include_bundles_in_stock_sync"]),
        import_orders=bool(item["import_orders"]),
        default_courier_service=item.get("default_courier_service"),
        stock_rules=_rules_from_item(item.get("stock_rules")),
        authorisation=Authorisation(
            type=auth.get("type"), status=auth.get("status", "authorisation_required"), hint=auth.get("hint")
        ),
        created_at=parse_iso(item["created_at"]),
        updated_at=parse_iso(item["updated_at"]),
        version=int(item["version"]),
        revision=int(item.get("revision", item["version"])),
        last_stock_sync=item.get("last_stock_sync"),
        last_stock_sync_started_at=_dt_or_none(item.get("last_stock_sync_started_at")),
        last_order_import_at=_dt_or_none(item.get("last_order_import_at")),
        secret_version=item.get("secret_version"),
    )


def _rules_to_item(rules: StockRules | None) -> dict[str, int] | None:
    if rules is None:
        return None
    values = {"buffer": rules.buffer, "max_quantity": rules.max_quantity, "zero_at_or_below": rules.zero_at_or_below}
    return {k: v for k, v in values.items() if v is not None}


def _rules_from_item(raw: dict[str, Any] | None) -> StockRules | None:
    if raw is None:
        return None
    return StockRules(
        buffer=raw.get("buffer"), max_quantity=raw.get("max_quantity"), zero_at_or_below=raw.get("zero_at_or_below")
    )


def _iso_or_none(moment: datetime | None) -> str | None:
    return iso(moment) if moment is not None else None


def _dt_or_none(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


class DynamoAccountRepository:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def get(self, client_id: str, account_id: str) -> Account | None:
        with dynamodb_errors("get account"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), account_sk(account_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return account_from_item(from_wire(item)) if item else None

    def find(self, client_id: str, merchant_id: str, marketplace: str) -> Account | None:
        with dynamodb_errors("find account"):
            response = self._db.get_item(
                TableName=self._table,
                Key=key(client_pk(client_id), seller_market_sk(merchant_id, marketplace)),
                ConsistentRead=True,
            )
        item = response.get("Item")
        return self.get(client_id, from_wire(item)["account_id"]) if item else None

    def page(self, client_id: str, where: AccountFilter, *, limit: int, next_token: str | None) -> Page[Account]:
        partition = client_pk(client_id)
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": partition}, ":prefix": {"S": "ACCOUNT#"}},
            "Limit": limit,
        }
        filters, names = [], {}
        for field, value in (("marketplace", where.marketplace), ("merchant_id", where.merchant_id)):
            if value is not None:
                filters.append(f"#{field} = :{field}")
                names[f"#{field}"] = field
                request["ExpressionAttributeValues"][f":{field}"] = {"S": value}
        if where.active is not None:
            filters.append("#active = :active")
            names["#active"] = "active"
            request["ExpressionAttributeValues"][":active"] = {"BOOL": where.active}
        if filters:
            request["FilterExpression"] = " AND ".join(filters)
            request["ExpressionAttributeNames"] = names
        items, token = query_page(
            self._db,
            request,
            partition=partition,
            sk_prefix="ACCOUNT#",
            next_token=next_token,
            operation="list accounts",
        )
        return Page(items=[account_from_item(item) for item in items], next_token=token)

    def of_seller(self, client_id: str, merchant_id: str) -> list[Account]:
        accounts: list[Account] = []
        token: str | None = None
        while True:
            page = self.page(client_id, AccountFilter(merchant_id=merchant_id), limit=100, next_token=token)
            accounts.extend(page.items)
            if page.next_token is None:
                return accounts
            token = page.next_token

    def create(self, account: Account, *, siblings: Sequence[Account] = ()) -> None:
        guard = {
            "PK": client_pk(account.client_id),
            "SK": seller_market_sk(account.merchant_id, account.marketplace),
            "entity": "account_key",
            "account_id": account.id,
        }
        items = [
            self._put_new(account_to_item(account)),
            self._put_new(guard),
            *(self._put_versioned(s) for s in siblings),
        ]
        try:
            with dynamodb_errors("create account"):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            codes = cancellation_codes(error)
            if "ConditionalCheckFailed" in codes[:2]:
                raise Conflict(
                    f"An account for seller {account.merchant_id} on {account.marketplace} already exists.",
                    code="account_exists",
                ) from error
            raise _version_conflict() from error

    def update(self, account: Account, *, expected_revision: int, siblings: Sequence[Account] = ()) -> None:
        items = [
            {
                "Put": {
                    "TableName": self._table,
                    "Item": to_wire(account_to_item(account)),
                    "ConditionExpression": "attribute_exists(PK) AND revision = :expected",
                    "ExpressionAttributeValues": {":expected": {"N": str(expected_revision)}},
                }
            },
            *(self._put_versioned(s) for s in siblings),
        ]
        try:
            with dynamodb_errors("update account"):
                self._db.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                raise
            raise _version_conflict() from error

    def delete(self, account: Account, now: datetime) -> None:
        pk = client_pk(account.client_id)
        tomb = {
            key_name: value
            for key_name, value in account_to_item(account).items()
            if not key_name.startswith(("GSI1", "GSI2"))
        }
        tomb.update(
            SK=tombstone_sk(account.id),
            entity="account_tombstone",
            deleted_at=iso(now),
            GSI1PK=CLEANUP_PARTITION,
            GSI1SK=f"{iso(now)}#{account.client_id}#{account.id}",
        )
        try:
            with dynamodb_errors("delete account"):
                self._db.transact_write_items(
                    TransactItems=[
                        {"Delete": {"TableName": self._table, "Key": key(pk, account_sk(account.id))}},
                        {
                            "Delete": {
                                "TableName": self._table,
                                "Key": key(pk, seller_market_sk(account.merchant_id, account.marketplace)),
                            }
                        },
                        {"Put": {"TableName": self._table, "Item": to_wire(tomb)}},
                    ]
                )
        except ClientError as error:
            # No condition here: only a transaction in flight on one of the items (a job's write checking
            # the tombstone, say) cancels it. Nothing was written; the same DELETE again goes through.
            if error_code(error) != "TransactionCanceledException":
                raise
            raise DependencyUnavailable("The account is being written to; retry the DELETE shortly.") from error

    def tombstone(self, client_id: str, account_id: str) -> Account | None:
        with dynamodb_errors("get deleted account"):
            response = self._db.get_item(
                TableName=self._table, Key=key(client_pk(client_id), tombstone_sk(account_id)), ConsistentRead=True
            )
        item = response.get("Item")
        return account_from_item(from_wire(item)) if item else None

    def tombstones(self, deleted_before: datetime) -> Iterator[tuple[Account, bool]]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": STOCK_SYNC_INDEX,
            "KeyConditionExpression": "GSI1PK = :p AND GSI1SK < :before",
            "ExpressionAttributeValues": {":p": {"S": CLEANUP_PARTITION}, ":before": {"S": iso(deleted_before)}},
        }
        while True:
            with dynamodb_errors("deleted accounts"):
                page = self._db.query(**request)
            for item in page.get("Items", []):
                yield account_from_item(from_wire(item)), "cleaned_at" in item
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def mark_cleaned(self, account: Account) -> None:
        with dynamodb_errors("mark deleted account cleaned"):
            self._db.update_item(
                TableName=self._table,
                Key=key(client_pk(account.client_id), tombstone_sk(account.id)),
                UpdateExpression="SET cleaned_at = :now",
                ExpressionAttributeValues={":now": {"S": iso(datetime.now(UTC))}},
            )

    def forget(self, account: Account) -> None:
        with dynamodb_errors("forget deleted account"):
            self._db.delete_item(TableName=self._table, Key=key(client_pk(account.client_id), tombstone_sk(account.id)))

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "Put": {"TableName": self._table, "Item": to_wire(item), "ConditionExpression": "attribute_not_exists(PK)"}
        }

    def _put_versioned(self, account: Account) -> dict[str, Any]:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_wire(account_to_item(account)),
                "ConditionExpression": "revision = :previous",
                "ExpressionAttributeValues": {":previous": {"N": str(account.revision - 1)}},
            }
        }


def _version_conflict() -> Conflict:
    return Conflict(
        "The account changed while this request was applied; read it again and retry.", code="version_conflict"
    )


class DynamoAuthorisationRejections:
    """Amazon refused a seller's refresh token (LWA `invalid_grant`): every account of that client's
    seller shows `rejected` and leaves the due indexes, so no job retries it in a loop (§4.2)."""

    def __init__(self, client: Any, table_name: str, accounts: DynamoAccountRepository) -> None:
        self._db = client
        self._table = table_name
        self._accounts = accounts

    def reject(self, client_id: str, merchant_id: str) -> list[Account]:
        rejected = []
        for account in self._accounts.of_seller(client_id, merchant_id):
            try:
                with dynamodb_errors("reject authorisation"):
                    self._db.update_item(
                        TableName=self._table,
                        Key=key(client_pk(client_id), account_sk(account.id)),
                        UpdateExpression="SET authorisation.#status = :rejected, revision = revision + :one, "
                        "version = version + :one REMOVE GSI1PK, GSI1SK, GSI2PK, GSI2SK",
                        ConditionExpression="attribute_exists(PK)",
                        ExpressionAttributeNames={"#status": "status"},
                        ExpressionAttributeValues={":rejected": {"S": "rejected"}, ":one": {"N": "1"}},
                    )
            except ClientError as error:
                if error_code(error) != "ConditionalCheckFailedException":
                    raise
                continue
            rejected.append(account)
        return rejected
