"""The buyer's data sealed with KMS (SPEC §6.8): field-level encryption under the stack's
customer-managed key, on top of the table's own encryption with that key.

Why KMS `Encrypt` itself rather than envelope encryption with a local cipher: an order's address,
buyer and gift messages fit in KMS's 4 KB plaintext limit once compressed (a long multi-gift order
takes a second call), so no cipher library has to ship in the layer — the `cryptography` package alone
is 13 MB unzipped against the layer's 15 MB budget, and the AWS Database Encryption SDK more (README,
"Buyer data"). The price is one KMS call per order written with buyer data and one per order opened,
well inside KMS's request quota. Each ciphertext is bound to its client and order by KMS's encryption
context, so a sealed blob copied onto another order or tenant does not open.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from oms_amazon.domain.errors import DependencyUnavailable
from oms_amazon.domain.orders import OrderPii

KMS_PLAINTEXT_LIMIT = 4096
_UNAVAILABLE = {"ThrottlingException", "KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"}


@contextmanager
def kms_errors(operation: str) -> Iterator[None]:
    """KMS throttling and outages are retryable (`DependencyUnavailable`); a refused key or a
    ciphertext that does not open is a fault and propagates (its message names no plaintext)."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in _UNAVAILABLE:
            raise DependencyUnavailable(f"The key service is busy ({operation}); retry shortly.") from error
        raise
    except BotoCoreError as error:
        raise DependencyUnavailable(f"The key service could not be reached ({operation}); retry shortly.") from error


class KmsPiiVault:
    def __init__(self, kms: Any, key_id: str) -> None:
        self._kms = kms
        self._key_id = key_id

    @staticmethod
    def _context(client_id: str, order_id: str) -> dict[str, str]:
        return {"client_id": client_id, "amazon_order_id": order_id}

    def seal(self, client_id: str, order_id: str, pii: OrderPii) -> list[bytes]:
        plaintext = zlib.compress(json.dumps(pii.to_dict(), separators=(",", ":")).encode(), 9)
        sealed = []
        for start in range(0, len(plaintext), KMS_PLAINTEXT_LIMIT):
            with kms_errors("seal buyer data"):
                answer = self._kms.encrypt(
                    KeyId=self._key_id,
                    Plaintext=plaintext[start : start + KMS_PLAINTEXT_LIMIT],
                    EncryptionContext=self._context(client_id, order_id),
                )
            sealed.append(bytes(answer["CiphertextBlob"]))
        return sealed

    def open(self, client_id: str, order_id: str, sealed: Sequence[bytes]) -> OrderPii:
        parts = []
        for blob in sealed:
            with kms_errors("open buyer data"):
                answer = self._kms.decrypt(CiphertextBlob=blob, EncryptionContext=self._context(client_id, order_id))
            parts.append(bytes(answer["Plaintext"]))
        return OrderPii.from_dict(json.loads(zlib.decompress(b"".join(parts))))
