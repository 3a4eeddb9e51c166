"""template.yaml agrees with the code: handlers import, env vars are set, events parse, tables are
defined once and built from the template."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from oms_amazon.settings import Settings

from local.functions import load_handler
from local.template import ROOT, api_routes, function_environment, load_template, resources, table_definitions

pytestmark = pytest.mark.unit

FUNCTIONS = sorted(resources("AWS::Serverless::Function"))
# Set by the Lambda runtime itself, never by the template.
RUNTIME_VARIABLES = {
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_LAMBDA_FUNCTION_NAME",
    "_X_AMZN_TRACE_ID",
    "AWS_ENDPOINT_URL",
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
    assert layer["Metadata"]["BuildMethod"] == "python3.13"
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
    assert {r.path for r in api_routes() if not r.authorised} <= {"/openapi.json", "/oauth/callback"}
