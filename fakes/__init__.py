"""In-memory fakes of the connector's ports, shared by the tests and the benchmark: each keeps the
conditions its real adapter enforces and records what happened, so a test asserts on state rather
than on calls (no mocks). Never deployed: the Lambda layer is `layers/common` only."""

from fakes.accounts import FakeAccounts, FakeRejections, FakeSecrets, NoRejections
from fakes.builders import account
from fakes.catalogue import FakeProducts
from fakes.mappings import FakeCourierMappings, FakeUnmappedTerms, RecordingReevaluation
from fakes.orders import CountingPublisher, FakeImportState, FakeOrders
from fakes.stock_sync import FakeStockStore
from fakes.write_limits import FakeWriteBuckets

__all__ = [
    "CountingPublisher",
    "FakeAccounts",
    "FakeCourierMappings",
    "FakeImportState",
    "FakeOrders",
    "FakeProducts",
    "FakeRejections",
    "FakeSecrets",
    "FakeStockStore",
    "FakeUnmappedTerms",
    "FakeWriteBuckets",
    "NoRejections",
    "RecordingReevaluation",
    "account",
]
