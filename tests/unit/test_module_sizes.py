"""No module of the layer grows past what one reader takes in: 500 lines, 400 for the SP-API client's files.
A module that nears the limit is split by responsibility, not trimmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.template import ROOT

pytestmark = pytest.mark.unit

PACKAGE = ROOT / "layers" / "common" / "oms_amazon"
SP_API = PACKAGE / "adapters" / "sp_api"
MAX_LINES = 500
MAX_SP_API_LINES = 400


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def _too_long(max_lines: int = MAX_LINES, max_sp_api_lines: int = MAX_SP_API_LINES) -> dict[str, int]:
    found: dict[str, int] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = path.relative_to(PACKAGE).as_posix()
        limit = max_sp_api_lines if path.is_relative_to(SP_API) else max_lines
        if _lines(path) > limit:
            found[name] = _lines(path)
    return found


def test_no_module_of_the_layer_exceeds_500_lines_nor_an_sp_api_client_file_400() -> None:
    assert _too_long() == {}


def test_the_check_finds_a_module_past_its_limit_and_holds_the_sp_api_client_to_its_own() -> None:
    wiring = _lines(PACKAGE / "wiring.py")
    transport = _lines(SP_API / "transport.py")

    assert _too_long(max_lines=wiring - 1)["wiring.py"] == wiring
    assert "adapters/sp_api/transport.py" not in _too_long(max_lines=transport - 1)
    assert _too_long(max_sp_api_lines=transport - 1)["adapters/sp_api/transport.py"] == transport
