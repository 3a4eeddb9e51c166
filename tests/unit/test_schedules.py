"""The template's schedules: valid EventBridge rate expressions, and stock never pushed more often
than every 15 minutes whatever the parameters say (moto and cfn-lint both accept `rate(15 minute)`,
so the expressions are checked here)."""

from __future__ import annotations

import pytest

from local.template import load_template, parameter_defaults, rate_minutes, schedules

pytestmark = pytest.mark.unit

PARAMETERS = load_template()["Parameters"]


@pytest.mark.parametrize("schedule", schedules(), ids=lambda s: s.function)
def test_every_schedule_is_a_valid_rate_expression_at_its_default(schedule):
    assert rate_minutes(schedule.expression, parameter_defaults()) > 0


@pytest.mark.parametrize("schedule", schedules(), ids=lambda s: s.function)
def test_every_schedule_is_valid_at_its_parameters_extremes(schedule):
    for name, parameter in PARAMETERS.items():
        if "${" + name + "}" in schedule.expression:
            for value in (parameter["MinValue"], parameter["MaxValue"]):
                assert rate_minutes(schedule.expression, {**parameter_defaults(), name: value}) == value


def test_the_stock_sync_tick_can_never_be_faster_than_every_15_minutes():
    (tick,) = [s for s in schedules() if s.function == "StockSyncTickFunction"]
    parameter = PARAMETERS["StockSyncRateMinutes"]

    assert parameter["MinValue"] >= 15 and parameter["Default"] >= 15
    assert rate_minutes(tick.expression, {"StockSyncRateMinutes": parameter["MinValue"]}) >= 15


def test_the_order_import_tick_defaults_to_5_minutes_with_a_2_minute_floor():
    parameter = PARAMETERS["OrderImportRateMinutes"]
    assert (parameter["Default"], parameter["MinValue"]) == (5, 2)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(15 minute)",
        "rate(1 minutes)",
        "rate(0 minutes)",
        "rate(-5 minutes)",
        "cron(0/15 * * * ? *)",
        "rate(15  minutes)",
    ],
)
def test_expressions_eventbridge_would_refuse_are_refused(expression):
    with pytest.raises(ValueError, match="rate"):
        rate_minutes(expression, {})


@pytest.mark.parametrize("schedule", schedules(), ids=lambda s: s.function)
def test_every_schedule_has_a_retry_policy_and_a_dead_letter_queue(schedule):
    assert schedule.retry_attempts <= 3
    assert schedule.dead_letter_queue
