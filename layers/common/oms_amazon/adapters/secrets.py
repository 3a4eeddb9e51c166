"""Sellers' tokens in Secrets Manager: one secret per client and seller, named
`<prefix><client_id>/<merchant_id>`, shared by that seller's marketplace accounts. The IAM policy
of every function limits it to `<prefix>*`.

Every token stored is a new version of the secret, named by an id chosen here (`ClientRequestToken`,
so a retried call stores it once); the accounts record that id and read their token by it. A version
never changes, so an account never names a token the secret does not hold, whatever other writer
came after it (see `services/accounts.py`)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.adapters.dynamodb import error_code
from oms_amazon.domain.accounts import SellerToken
from oms_amazon.domain.errors import DependencyUnavailable


class SecretsManagerSellerSecrets:
    def __init__(self, client: Any, prefix: str) -> None:
        self._sm = client
        self._prefix = prefix

    def name(self, client_id: str, merchant_id: str) -> str:
        return f"{self._prefix}{client_id}/{merchant_id}"

    def get(self, client_id: str, merchant_id: str, version: str | None = None) -> SellerToken | None:
        request: dict[str, Any] = {"SecretId": self.name(client_id, merchant_id)}
        if version is not None:
            request["VersionId"] = version
        try:
            response = self._sm.get_secret_value(**request)
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise _unavailable("read") from error
        except BotoCoreError as error:
            raise _unavailable("read") from error
        value = json.loads(response["SecretString"])
        return SellerToken(value=value["token"], type=value["type"])

    def put(self, client_id: str, merchant_id: str, token: SellerToken) -> str:
        name = self.name(client_id, merchant_id)
        payload = json.dumps({"token": token.value, "type": token.type})
        version = uuid.uuid4().hex
        try:
            try:
                self._sm.put_secret_value(SecretId=name, SecretString=payload, ClientRequestToken=version)
            except ClientError as error:
                if error_code(error) != "ResourceNotFoundException":
                    raise
                self._sm.create_secret(
                    Name=name,
                    SecretString=payload,
                    ClientRequestToken=version,
                    Description=f"Amazon SP-API authorisation of seller {merchant_id} for client {client_id}",
                    Tags=[{"Key": "client_id", "Value": client_id}, {"Key": "merchant_id", "Value": merchant_id}],
                )
        except (ClientError, BotoCoreError) as error:
            raise _unavailable("stored") from error
        return version

    def current_version(self, client_id: str, merchant_id: str) -> str | None:
        try:
            response = self._sm.get_secret_value(SecretId=self.name(client_id, merchant_id))
        except ClientError as error:
            if error_code(error) == "ResourceNotFoundException":
                return None
            raise _unavailable("read") from error
        except BotoCoreError as error:
            raise _unavailable("read") from error
        version: str = response["VersionId"]
        return version

    def withdraw(self, client_id: str, merchant_id: str, version: str, back_to: str) -> bool:
        """Make `back_to` current again, but only while `version` is: Secrets Manager moves the label
        only from the version named, so a token another writer stored meanwhile stays current."""
        try:
            self._sm.update_secret_version_stage(
                SecretId=self.name(client_id, merchant_id),
                VersionStage="AWSCURRENT",
                RemoveFromVersionId=version,
                MoveToVersionId=back_to,
            )
        except ClientError as error:
            if error_code(error) in ("InvalidParameterException", "ResourceNotFoundException"):
                return False
            raise _unavailable("restored") from error
        except BotoCoreError as error:
            raise _unavailable("restored") from error
        return True

    def delete(self, client_id: str, merchant_id: str) -> None:
        # A removed connection keeps no credential: deleted at once, not after a recovery window.
        try:
            self._sm.delete_secret(SecretId=self.name(client_id, merchant_id), ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise _unavailable("deleted") from error
        except BotoCoreError as error:
            raise _unavailable("deleted") from error


def _unavailable(action: str) -> DependencyUnavailable:
    # The boto error may quote the request; it is chained for the logs, never put in the message.
    return DependencyUnavailable(f"The seller's credentials could not be {action}; retry shortly.")
