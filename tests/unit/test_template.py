"""template.yaml agrees with the code: handlers import, env vars are set, events parse, tables are
defined once and built from the template."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path
from typing import Any

import pytest
from oms_amazon.settings import Settings

from local.functions import load_handler
from local.template import (
    ROOT,
    api_routes,
    function_environment,
    load_template,
    queue_triggers,
    resources,
    schedules,
    table_definitions,
)

pytestmark = pytest.mark.unit

FUNCTIONS = sorted(resources("AWS::Serverless::Function"))
# Set by the Lambda runtime itself, never by the template.
RUNTIME_VARIABLES = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "_X_AMZN_TRACE_ID",
    "AWS_ENDPOINT_URL",
    "LAMBDA_TASK_ROOT",
    "AWS_SAM_LOCAL",
}


def environment_reads(path: Path) -> set[str]:
    """Names read through os.environ / os.getenv in one source file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            names.add(ast.literal_eval(node.slice))
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("os.environ.get", "os.getenv") and node.args:
            names.add(ast.literal_eval(node.args[0]))
    return names


def layer_sources() -> list[Path]:
    return sorted((ROOT / "layers" / "common" / "oms_amazon").rglob("*.py"))


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_handler_imports(logical_id):
    assert callable(load_handler(logical_id))


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_environment_variable_the_code_reads_is_set_for_the_function(logical_id):
    code_uri = ROOT / resources("AWS::Serverless::Function")[logical_id]["Properties"]["CodeUri"]
    reads = set().union(*(environment_reads(p) for p in [*code_uri.rglob("*.py"), *layer_sources()]))
    settings_vars = {field.alias for field in Settings.model_fields.values() if field.alias}
    provided = set(function_environment(logical_id))

    # Powertools' own switches (POWERTOOLS_*) are optional by design and default sensibly.
    optional = {name for name in reads if name.startswith("POWERTOOLS_")}
    assert (reads | settings_vars) - RUNTIME_VARIABLES - optional <= provided


def test_functions_hold_only_their_handler_module():
    for props in (r["Properties"] for r in resources("AWS::Serverless::Function").values()):
        files = sorted(p.name for p in (ROOT / props["CodeUri"]).glob("*.py"))
        assert files == ["app.py"], "shared code belongs in the layer; a function is one app.py"


def test_the_layer_is_built_by_sam_from_requirements_and_has_no_python_folder():
    layer = resources("AWS::Serverless::LayerVersion")["CommonLayer"]
    # layers/common/Makefile: pip install -r requirements.txt, less what the Lambda runtime provides.
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert "build-CommonLayer:" in makefile and "-r requirements.txt" in makefile
    assert (ROOT / "layers/common/requirements.txt").exists()
    assert not (ROOT / "layers/common/python").exists()


def test_functions_default_to_arm64_and_python_3_13():
    template = load_template()
    assert template["Parameters"]["Architecture"]["Default"] == "arm64"
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"


@pytest.mark.parametrize("path", sorted((ROOT / "events").glob("*.json")), ids=lambda p: p.name)
def test_every_event_sample_parses(path):
    event = json.loads(path.read_text())
    assert isinstance(event, dict) and event


def test_api_events_route_to_a_function_in_the_template():
    paths = {(r.method, r.path) for r in api_routes()}
    for path in sorted((ROOT / "events").glob("api-*.json")):
        event = json.loads(path.read_text())
        assert (event["httpMethod"], event["resource"]) in paths or ("ANY", event["resource"]) in paths


def test_tables_have_point_in_time_recovery_encryption_and_on_demand_billing():
    for table in resources("AWS::DynamoDB::Table").values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert props["SSESpecification"]["SSEEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"


def test_table_definitions_come_from_the_template():
    (request,) = table_definitions({"ConnectorTable": "t"})
    template_props = resources("AWS::DynamoDB::Table")["ConnectorTable"]["Properties"]
    assert request["KeySchema"] == template_props["KeySchema"]
    assert request["GlobalSecondaryIndexes"] == template_props["GlobalSecondaryIndexes"]


def test_secrets_are_limited_to_the_sellers_prefix_or_the_stacks_own_secrets():
    own_secrets = set(resources("AWS::SecretsManager::Secret"))
    for logical_id, function in resources("AWS::Serverless::Function").items():
        for policy in function["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                if any(a.startswith("secretsmanager:") for a in actions):
                    targets = (
                        statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                    )
                    for target in targets:
                        if isinstance(target, dict) and "Ref" in target:
                            assert target["Ref"] in own_secrets, logical_id
                            assert actions == ["secretsmanager:GetSecretValue"], f"{logical_id} may only read it"
                        else:
                            assert re.search(r"secret:\$\{AWS::StackName\}/sellers/\*", json.dumps(target)), logical_id
                assert statement["Resource"] != "*", f"{logical_id} grants {actions} on every resource"


def test_only_the_api_function_reads_the_oauth_state_key():
    readers = {
        logical_id
        for logical_id, function in resources("AWS::Serverless::Function").items()
        for policy in function["Properties"].get("Policies", [])
        if isinstance(policy, dict)
        for statement in policy.get("Statement", [])
        if {"Ref": "OAuthStateKey"} in (statement["Resource"] if isinstance(statement["Resource"], list) else [])
    }
    assert readers == {"ApiFunction"}
    key = resources("AWS::SecretsManager::Secret")["OAuthStateKey"]["Properties"]
    assert key["GenerateSecretString"]["PasswordLength"] >= 32, "an HMAC-SHA256 key of at least 256 bits"


def test_the_oauth_callback_is_a_public_get_route_of_the_api_function():
    callback = [r for r in api_routes() if r.path == "/oauth/callback"]
    assert [(r.function, r.method, r.authorised) for r in callback] == [("ApiFunction", "GET", False)]


def test_the_api_uses_a_cognito_authorizer_by_default_and_opens_only_public_routes():
    api = resources("AWS::Serverless::Api")["ConnectorApi"]["Properties"]
    assert api["Auth"]["DefaultAuthorizer"] == "CognitoAuthorizer"
    public = {(r.method, r.path) for r in api_routes() if not r.authorised}
    assert public <= {
        ("GET", "/openapi.json"),
        ("GET", "/oauth/callback"),
        # Authorise Now by e-mail and the Appstore workflow's log-in URI: a seller's browser, no token
        ("GET", "/oauth/authorise"),
        ("GET", "/oauth/login"),
        # the web console's static files (its data calls carry the token)
        ("GET", "/console"),
        ("GET", "/console/{proxy+}"),
    }


def test_the_appstore_log_in_is_public_to_open_and_cognito_to_complete():
    login = {(r.method, r.authorised) for r in api_routes() if r.path == "/oauth/login"}
    assert login == {("GET", False), ("POST", True)}


def test_the_console_signs_in_with_the_hosted_ui_authorization_code_flow_back_to_the_console():
    client = resources("AWS::Cognito::UserPoolClient")["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False, "a browser holds no client secret: PKCE instead"
    assert client["AllowedOAuthFlows"] == ["code"] and client["AllowedOAuthFlowsUserPoolClient"] is True
    assert "openid" in client["AllowedOAuthScopes"]
    (callback,) = client["CallbackURLs"]
    assert callback["Fn::Sub"].endswith("/${Stage}/console/")
    assert resources("AWS::Cognito::UserPoolDomain"), "the hosted UI needs a domain"


# ---- The AWS console view (SPEC §2): dead-letter queues, log groups, tracing, alarms, dashboard.

ALARMS = resources("AWS::CloudWatch::Alarm")
NOTIFY = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


def redrive_targets() -> set[str]:
    return {
        queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for queue in resources("AWS::SQS::Queue").values()
        if "RedrivePolicy" in (queue.get("Properties") or {})
    }


def dead_letter_queues() -> set[str]:
    """Every queue that holds what failed: the queues' redrive targets and the schedules' DLQs."""
    return redrive_targets() | {s.dead_letter_queue for s in schedules() if s.dead_letter_queue}


def dashboard_body() -> str:
    (dashboard,) = resources("AWS::CloudWatch::Dashboard").values()
    body: str = dashboard["Properties"]["DashboardBody"]["Fn::Sub"]
    return body


def emitted_metric_names() -> set[str]:
    """The EMF metrics the layer emits through `observability.count`."""
    pattern = re.compile(r"(?<![.\w])count\(\s*\"([A-Za-z]+)\"")
    return {name for path in layer_sources() for name in pattern.findall(path.read_text())}


def test_every_queue_but_a_dead_letter_queue_redrives_into_one_after_a_few_receives():
    for logical_id, queue in resources("AWS::SQS::Queue").items():
        if logical_id in dead_letter_queues():
            continue
        redrive = queue["Properties"]["RedrivePolicy"]
        assert redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] in resources("AWS::SQS::Queue"), logical_id
        assert 1 < redrive["maxReceiveCount"] <= 10, logical_id


def test_dead_letter_queues_keep_messages_14_days_encrypted_and_fifo_like_their_source():
    queues = resources("AWS::SQS::Queue")
    for logical_id in dead_letter_queues():
        props = queues[logical_id]["Properties"]
        assert props["MessageRetentionPeriod"] == 1209600, logical_id
        assert props["SqsManagedSseEnabled"] is True, logical_id
    for source in queues.values():
        redrive = (source.get("Properties") or {}).get("RedrivePolicy")
        if redrive:
            target = queues[redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]]["Properties"]
            assert bool(target.get("FifoQueue")) == bool(source["Properties"].get("FifoQueue"))


def test_each_schedule_and_only_that_schedule_may_dead_letter_into_its_queue():
    (policy,) = resources("AWS::SQS::QueuePolicy").values()
    queues = {ref["Ref"] for ref in policy["Properties"]["Queues"]}
    assert queues == {s.dead_letter_queue for s in schedules()}
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_queue = {statement["Resource"]["Fn::GetAtt"][0]: statement for statement in statements}
    assert len(by_queue) == len(statements), "one statement per dead-letter queue"
    for schedule in schedules():
        statement = by_queue[schedule.dead_letter_queue]
        assert statement["Effect"] == "Allow"
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        # SAM names a schedule's rule <function><event>: this rule, not any rule in the account.
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
            "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [f"{schedule.function}{schedule.name}", "Arn"]}},
        }, schedule.dead_letter_queue


def function_timeout(logical_id: str) -> int:
    own = resources("AWS::Serverless::Function")[logical_id]["Properties"].get("Timeout")
    return int(own if own is not None else load_template()["Globals"]["Function"]["Timeout"])


@pytest.mark.parametrize("trigger", queue_triggers(), ids=lambda t: t.queue)
def test_every_queue_a_function_consumes_hides_a_message_six_times_the_functions_timeout(trigger):
    # AWS's advice for a Lambda event source: room for the mapping's retries of a throttled batch,
    # so a message still being worked on is never handed to a second worker.
    queue = resources("AWS::SQS::Queue")[trigger.queue]["Properties"]
    visibility = int(queue.get("VisibilityTimeout", 30))
    assert visibility >= 6 * function_timeout(trigger.function), (trigger.queue, trigger.function)
    assert visibility <= 43_200, "SQS's maximum visibility timeout is 12 hours"


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_logs_to_its_own_log_group_with_the_retention_parameter(logical_id):
    log_group = resources("AWS::Serverless::Function")[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    props = resources("AWS::Logs::LogGroup")[log_group]["Properties"]
    assert props["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    others = [
        f["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        for name, f in resources("AWS::Serverless::Function").items()
        if name != logical_id
    ]
    assert log_group not in others


def test_every_function_and_the_api_are_traced_with_x_ray():
    template = load_template()
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert all("Tracing" not in f["Properties"] for f in resources("AWS::Serverless::Function").values())
    assert resources("AWS::Serverless::Api")["ConnectorApi"]["Properties"]["TracingEnabled"] is True


def test_alarms_notify_the_topic_only_when_one_is_given():
    template = load_template()
    assert template["Parameters"]["AlarmTopicArn"]["Default"] == ""
    assert template["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    for logical_id, alarm in ALARMS.items():
        assert alarm["Properties"]["AlarmActions"] == NOTIFY, logical_id
        assert alarm["Properties"]["OKActions"] == NOTIFY, logical_id
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", logical_id
        assert alarm["Properties"]["AlarmDescription"], logical_id


@pytest.mark.parametrize("queue", sorted(dead_letter_queues()))
def test_every_dead_letter_queue_alarms_as_soon_as_it_holds_a_message(queue):
    watching = [
        a["Properties"]
        for a in ALARMS.values()
        if a["Properties"].get("Dimensions") == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    ]
    assert len(watching) == 1, f"{queue} needs exactly one alarm"
    (alarm,) = watching
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == (
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
    )
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"]) == (
        "GreaterThanThreshold",
        0,
        1,
    )


def test_worker_failures_rejected_authorisations_and_amazon_5xx_raise_alarms():
    watched = {
        (a["Properties"].get("MetricName"), json.dumps(a["Properties"].get("Dimensions"))) for a in ALARMS.values()
    }
    for worker in ("StockSyncWorkerFunction", "OrderImportWorkerFunction"):
        assert ("Errors", json.dumps([{"Name": "FunctionName", "Value": {"Ref": worker}}])) in watched
    assert ("AuthorisationsRejected", json.dumps([{"Name": "service", "Value": "oms-amazon-connector"}])) in watched
    (rate,) = [a["Properties"] for a in ALARMS.values() if "Metrics" in a["Properties"]]
    used = {m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m}
    assert used == {"AmazonCalls", "AmazonServerErrors"}
    assert used <= emitted_metric_names(), "the alarm watches metrics the code emits"


def test_the_dashboard_is_json_that_names_only_the_templates_resources_and_parameters():
    body = dashboard_body()
    template = load_template()
    names = set(template["Resources"]) | set(template["Parameters"]) | {"AWS::Region", "AWS::StackName"}
    references = re.findall(r"\$\{([^}]+)\}", body)
    assert references
    assert {ref.split(".")[0] for ref in references} <= names
    dashboard = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))
    for widget in dashboard["widgets"]:
        assert {"type", "x", "y", "width", "height", "properties"} <= set(widget)
        assert widget["x"] + widget["width"] <= 24


def test_the_dashboard_charts_every_metric_the_code_emits():
    body = dashboard_body()
    missing = {name for name in emitted_metric_names() if f'"{name}"' not in body and f'\\"{name}\\"' not in body}
    assert not missing, f"metrics emitted but not on the dashboard: {sorted(missing)}"


def test_the_dashboard_shows_every_dead_letter_queue_every_alarm_and_each_workers_errors():
    body = dashboard_body()
    for queue in dead_letter_queues():
        assert "${" + queue + ".QueueName}" in body, queue
    for alarm in ALARMS:
        assert "${" + alarm + ".Arn}" in body, alarm
    for logical_id, function in resources("AWS::Serverless::Function").items():
        if any(e["Type"] == "SQS" for e in (function["Properties"].get("Events") or {}).values()):
            assert '"Errors", "FunctionName", "${' + logical_id + '}"' in body, logical_id


# ---- The event catalogue: a sample for every trigger of every function, each telling whose it is.

EVENT_FILES = sorted((ROOT / "events").glob("*.json"))


def function_of(event: dict) -> str:
    """The function a sample event is for, from its own content, as the template wires triggers."""
    if "httpMethod" in event:
        (function,) = {
            r.function for r in api_routes() if (r.method, r.path) in {(event["httpMethod"], event["resource"])}
        } or {r.function for r in api_routes() if (r.method, r.path) == ("ANY", event["resource"])}
        return function
    if event.get("detail-type") == "Scheduled Event":
        rule = event["resources"][0].rsplit("/", 1)[1]
        (function,) = {s.function for s in schedules() if f"-{s.function}{s.name}-" in f"-{rule}-"}
        return function
    (source,) = {r["eventSourceARN"] for r in event["Records"]}
    queue_name = source.rsplit(":", 1)[1].removesuffix(".fifo")
    (function,) = {t.function for t in queue_triggers() if re.search(rf"-{t.queue}(-[A-Za-z0-9]+)?$", queue_name)}
    return function


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: p.name)
def test_every_event_sample_belongs_to_one_function_of_the_template(path):
    assert function_of(json.loads(path.read_text())) in FUNCTIONS


@pytest.mark.parametrize("logical_id", FUNCTIONS)
def test_every_function_has_a_sample_event_for_each_of_its_triggers(logical_id):
    samples = [json.loads(p.read_text()) for p in EVENT_FILES]
    mine = [e for e in samples if function_of(e) == logical_id]
    triggers = {e["Type"] for e in resources("AWS::Serverless::Function")[logical_id]["Properties"]["Events"].values()}
    kinds = {"Api" if "httpMethod" in e else "Schedule" if "detail-type" in e else "SQS" for e in mine}
    assert triggers <= kinds, f"{logical_id} has no sample for {sorted(triggers - kinds)}"


def test_every_api_route_family_has_a_sample():
    paths = {json.loads(p.read_text()).get("path") for p in EVENT_FILES}
    for route in ("/marketplaces", "/accounts", "/courier-mappings", "/shipping-terms", "/products", "/orders"):
        assert any(p == route or (p or "").startswith(route + "/") for p in paths), route


def test_sample_jobs_are_exactly_what_the_producers_send():
    from oms_amazon.domain.jobs import ImportJob, Job
    from oms_amazon.services.shipments import ShipmentJob

    parsers: dict[str, Any] = {
        "stock_sync": Job,
        "reconcile": Job,
        "refresh_listings": Job,
        "order_import": ImportJob,
        "confirm_shipment": ShipmentJob,
    }
    seen = set()
    for path in EVENT_FILES:
        event = json.loads(path.read_text())
        for record in event.get("Records", []):
            body = json.loads(record["body"])
            parser = parsers.get(body["job"])
            if parser is None:
                continue
            # As the worker parses it: the record's body text, through the job's strict model.
            assert parser.model_validate_json(record["body"]).to_message() == body, path.name
            seen.add(body["job"])
    assert seen == set(parsers), "a sample for each job kind the workers take"


def test_the_event_catalogue_lists_every_sample():
    catalogue = (ROOT / "events" / "README.md").read_text()
    listed = set(re.findall(r"`([\w.-]+\.json)`", catalogue))
    assert listed == {p.name for p in EVENT_FILES}
