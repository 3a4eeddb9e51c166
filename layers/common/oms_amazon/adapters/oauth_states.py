"""Storage behind the OAuth state (domain.oauth_state): its signing key and its used nonces.

- The key is a Secrets Manager secret the stack generates (`OAuthStateKey`); it is read once per
  container. Rotating it invalidates the states in flight (each lives 10 minutes).
- A used state is an item `CLIENT#<client>` / `OAUTHSTATE#<nonce>`, written with
  `attribute_not_exists`: the first callback with a state wins, a replay finds the item and is
  refused. `ttl` (Unix seconds, a day after the state expired) lets DynamoDB's TTL remove it; an
  expired state is refused by its signed expiry whether or not the item is still there.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.adapters.accounts import client_pk
from oms_amazon.adapters.dynamodb import dynamodb_errors, error_code, iso
from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.oauth_state import MIN_KEY_BYTES, StateClaims

USED_STATE_RETENTION = timedelta(days=1)


def used_state_sk(nonce: str) -> str:
    return f"OAUTHSTATE#{nonce}"


class SecretsManagerStateKey:
    """The HMAC key of OAuth states: the secret's string, as bytes (page tokens derive theirs from it)."""

    def __init__(self, client: Any, secret_id: str, *, purpose: str = "authorisation signing key") -> None:
        self._sm = client
        self._secret_id = secret_id
        self._purpose = purpose
        self._key: bytes | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"SecretsManagerStateKey(secret_id={self._secret_id!r})"

    def key(self) -> bytes:
        with self._lock:
            if self._key is None:
                try:
                    value = self._sm.get_secret_value(SecretId=self._secret_id)["SecretString"]
                except (ClientError, BotoCoreError) as error:
                    raise DependencyUnavailable(f"The {self._purpose} could not be read; retry shortly.") from error
                key = str(value).encode()
                if len(key) < MIN_KEY_BYTES:
                    raise DependencyUnavailable(f"The {self._purpose} is not set up; an operator must fix it.")
                self._key = key
            return self._key


class DynamoUsedStates:
    def __init__(self, client: Any, table_name: str) -> None:
        self._db = client
        self._table = table_name

    def consume(self, claims: StateClaims, used_at: datetime) -> bool:
        """Record the state as used; False when it already was (a replay)."""
        item = {
            "PK": {"S": client_pk(claims.client_id)},
            "SK": {"S": used_state_sk(claims.nonce)},
            "entity": {"S": "oauth_state"},
            "account_id": {"S": claims.account_id},
            "used_at": {"S": iso(used_at)},
            "ttl": {"N": str(int((claims.expires_at + USED_STATE_RETENTION).timestamp()))},
        }
        try:
            with dynamodb_errors("record oauth state"):
                self._db.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(PK)")
        except ClientError as error:
            if error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True
