"""Every sample in events/ runs through its function as the console or `make invoke` would fire it:
against the template's resources (moto), on a fresh stack, without an error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from local.functions import LambdaContext, load_handler
from local.template import ROOT
from tests.unit.test_template import function_of

pytestmark = pytest.mark.integration

SAMPLES = sorted((ROOT / "events").glob("*.json"))


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_every_sample_event_runs_through_its_function_on_a_fresh_stack(aws: None, path: Path) -> None:
    event = json.loads(path.read_text())
    function = function_of(event)

    result = load_handler(function)(event, LambdaContext(function_name=function))

    if "httpMethod" in event:
        text = result.get("body") or ""
        body = json.loads(text) if text.startswith("{") else None
        assert result["statusCode"] < 500, result
        assert not (body and body.get("error", {}).get("code") == "route_not_found"), "the sample names a real route"
    elif "Records" in event:
        assert result == {"batchItemFailures": []}, "a job for an unknown account is acknowledged, not retried"
    else:
        assert result["queued"] == 0
