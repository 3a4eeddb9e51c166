"""`make run` plays the whole scenario and exits 0. It runs in its own process, as `make run` does:
the stack it starts owns the process's AWS and Amazon settings."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e


def test_the_make_run_scenario_plays_through():
    done = subprocess.run([sys.executable, "-m", "local", "run"], cwd=ROOT, capture_output=True, text=True, timeout=600)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Scenario complete" in done.stdout
    assert "custom_access_keys_prohibited" in done.stdout and "sku_case_mismatch" in done.stdout
    assert "confirmed" in done.stdout
    assert "Atzr|" not in done.stdout + done.stderr, "no token is ever printed"
