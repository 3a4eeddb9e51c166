"""What an SP-API handler receives and returns; the HTTP layer (`app.py`) does the rest around it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .core import Fault, Simulator
from .models import Operation
from .state import Seller


@dataclass
class Call:
    sim: Simulator
    op: Operation
    seller: Seller
    path_args: dict[str, str]
    query: dict[str, Any]
    body: Any
    base_url: str
    # Set when the call came with a Restricted Data Token: the data elements it grants for this resource.
    restricted: bool = False
    data_elements: frozenset[str] = frozenset()
    # The fault drawn for this call, when it changes what the operation makes (`kind: fatal`).
    fault: Fault | None = None


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Reply]
