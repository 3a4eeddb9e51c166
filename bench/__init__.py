"""`make bench`: the connector's SP-API calls and simulated Amazon seconds under Amazon's enforced rate
limits, beside a naive connector and the lower bound; handler cold-import time; the layer's size.

Run with `python -m bench` from the repository root (see bench/README.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "common"

# The connector's package lives in the layer; the simulator in `local`.
for _path in (str(LAYER), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)


def quiet() -> None:
    """Quiet workers for a benchmark process: the table on stdout must not drown in per-call JSON logs
    or EMF metric lines. Call before `oms_amazon` is imported (the logger reads its level then); only
    `python -m bench` does, so importing `bench` (e.g. from a test) changes nothing."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
