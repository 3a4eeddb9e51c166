"""`make run` plays the whole scenario and exits 0 (it starts and stops its own stack)."""

from __future__ import annotations

import pytest

from local.scenario import play

pytestmark = pytest.mark.e2e


def test_the_make_run_scenario_plays_through(capsys):
    assert play() == 0
    output = capsys.readouterr().out
    assert "Scenario complete" in output
    assert "custom_access_keys_prohibited" in output and "sku_case_mismatch" in output
    assert "Atzr|" not in output, "no token is ever printed"
