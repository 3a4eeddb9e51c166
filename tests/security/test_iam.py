"""Least privilege in `template.yaml` (SPEC §2, §9): each function's policies name the stack's own
resources (never `*` for a data action), seller secrets only under the connector's prefix, the
scheduled ticks read no secret at all, only the functions that call Amazon read a seller's token, and
no function holds an action its code does not call. Plus cfn-lint and checkov over the template,
when their tool virtualenvs are installed (`make validate`, `make checkov` run them in CI)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from local.template import ROOT, TEMPLATE, function_environment, load_template, resources

pytestmark = [pytest.mark.unit, pytest.mark.security]

DATA_SERVICES = ("dynamodb:", "sqs:", "secretsmanager:", "events:", "s3:", "kms:")
FUNCTIONS = resources("AWS::Serverless::Function")
SELLER_SECRETS = re.compile(
    r"^arn:\$\{AWS::Partition\}:secretsmanager:\$\{AWS::Region\}:\$\{AWS::AccountId\}:secret:\$\{AWS::StackName\}/sellers/\*$"
)

# What each function's code calls, by action. A new boto3 call needs its action added here and in the
# template; an action here that the code stops calling should leave both. (A DynamoDB transaction is
# authorised per item: Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, check -> ConditionCheckItem.)
TABLE_ITEMS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
}
READ_SECRET = {"secretsmanager:GetSecretValue"}
NEEDED: dict[str, set[str]] = {
    # accounts and their seller secret (create with tags, replace, delete), Authorise Now, verify, run-now jobs
    "ApiFunction": TABLE_ITEMS
    | {
        "secretsmanager:CreateSecret",
        "secretsmanager:TagResource",
        "secretsmanager:PutSecretValue",
        "secretsmanager:GetSecretValue",
        "secretsmanager:DeleteSecret",
        # a token write the table refused gives the seller's current token back (adapters.secrets)
        "secretsmanager:UpdateSecretVersionStage",
        "sqs:SendMessage",
        "events:PutEvents",
        # GET /orders/{id} opens the order's sealed buyer data (adapters.pii); nothing else does
        "kms:Decrypt",
        # the web console's sign-in: the user pool client id (the container's console_sign_in)
        "ssm:GetParameter",
    },
    "StockSyncTickFunction": {
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "dynamodb:PutItem",
        "dynamodb:GetItem",
        "sqs:SendMessage",
    },
    # each worker sends a job message it cannot parse to its queue's DLQ (oms_amazon.batch)
    "StockSyncWorkerFunction": TABLE_ITEMS | READ_SECRET | {"sqs:SendMessage"},
    "OrderImportTickFunction": {
        "dynamodb:Query",
        # judging held orders again after a mapping changed reads their account and rewrites them, and
        # looks up their lines' SKUs by key
        "dynamodb:GetItem",
        "dynamodb:BatchGetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "sqs:SendMessage",
        "events:PutEvents",
    },
    # the importer seals each order's buyer data (adapters.pii) and never opens it
    "OrderImportWorkerFunction": TABLE_ITEMS | READ_SECRET | {"events:PutEvents", "kms:Encrypt", "sqs:SendMessage"},
    "ShipmentWorkerFunction": TABLE_ITEMS | READ_SECRET | {"events:PutEvents", "sqs:SendMessage"},
}
# Only the importer may seal buyer data and only the API may open it (SPEC §6.8).
PII_KEY_USERS = {"kms:Encrypt": {"OrderImportWorkerFunction"}, "kms:Decrypt": {"ApiFunction"}}

# The functions whose code calls Amazon (SP-API / LWA) and so needs a seller's refresh token.
CALLS_AMAZON = {"ApiFunction", "StockSyncWorkerFunction", "OrderImportWorkerFunction", "ShipmentWorkerFunction"}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(logical_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in FUNCTIONS[logical_id]["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and set(policy) == {"Statement"}, (
            f"{logical_id}: only inline statements are checked here, not {policy!r} (a managed policy or SAM "
            "template would need its actions and resources spelled out to be reviewed)"
        )
        found.extend(_list(policy["Statement"]))
    return found


def actions(logical_id: str) -> set[str]:
    return {a for s in statements(logical_id) if s.get("Effect") == "Allow" for a in _list(s["Action"])}


def _names_a_resource_of_this_stack(resource: Any) -> bool:
    own = set(load_template()["Resources"])
    if isinstance(resource, dict) and "Ref" in resource:
        return resource["Ref"] in own
    if isinstance(resource, dict) and "Fn::GetAtt" in resource:
        return resource["Fn::GetAtt"][0] in own
    if isinstance(resource, dict) and "Fn::Sub" in resource:
        text = resource["Fn::Sub"] if isinstance(resource["Fn::Sub"], str) else resource["Fn::Sub"][0]
        first = re.match(r"^\$\{([A-Za-z0-9]+)[.}]", text)
        return bool(first and first.group(1) in own) or "${AWS::StackName}" in text
    return False


@pytest.mark.parametrize("action", sorted(PII_KEY_USERS))
def test_the_buyer_data_key_is_used_by_the_one_function_that_needs_each_action(action: str) -> None:
    holders = {logical_id for logical_id in FUNCTIONS if action in actions(logical_id)}
    assert holders == PII_KEY_USERS[action]
    for logical_id in holders:
        granted = [s for s in statements(logical_id) if action in _list(s["Action"])]
        assert all(s["Resource"] == {"Fn::GetAtt": ["PiiKey", "Arn"]} for s in granted), granted


def test_every_function_is_classified_here() -> None:
    assert set(FUNCTIONS) == set(NEEDED), "a new or renamed function: say here which actions its code needs"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_data_actions_name_only_the_stacks_own_resources_never_a_wildcard(logical_id: str) -> None:
    for statement in statements(logical_id):
        granted = _list(statement["Action"])
        assert statement.get("Effect") == "Allow" and "NotAction" not in statement and "NotResource" not in statement
        assert all(a != "*" and not a.endswith(":*") for a in granted), f"{logical_id} grants {granted}"
        if any(a.startswith(DATA_SERVICES) for a in granted):
            for resource in _list(statement["Resource"]):
                assert resource != "*", f"{logical_id}/{statement.get('Sid')}: {granted} on every resource"
                assert _names_a_resource_of_this_stack(resource), f"{logical_id}/{statement.get('Sid')}: {resource}"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_function_holds_only_the_actions_its_code_calls(logical_id: str) -> None:
    extra = actions(logical_id) - NEEDED[logical_id]
    assert not extra, f"{logical_id} holds {sorted(extra)}, which its code never calls"


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_secrets_are_limited_to_the_connectors_prefix(logical_id: str) -> None:
    stack_secrets = resources("AWS::SecretsManager::Secret")
    for statement in statements(logical_id):
        if not any(a.startswith("secretsmanager:") for a in _list(statement["Action"])):
            continue
        for resource in _list(statement["Resource"]):
            if isinstance(resource, dict) and "Ref" in resource:
                name = stack_secrets[resource["Ref"]]["Properties"]["Name"]["Fn::Sub"]
                assert name.startswith("${AWS::StackName}/"), name
            else:
                assert SELLER_SECRETS.match(resource.get("Fn::Sub", "")), f"{logical_id}: {resource}"


def _reads_seller_secrets(logical_id: str) -> bool:
    return any(
        "secretsmanager:GetSecretValue" in _list(s["Action"])
        and any(isinstance(r, dict) and "/sellers/" in json.dumps(r) for r in _list(s["Resource"]))
        for s in statements(logical_id)
    )


def _queues_sent_to(logical_id: str) -> set[str]:
    return {
        resource["Fn::GetAtt"][0]
        for statement in statements(logical_id)
        if "sqs:SendMessage" in _list(statement["Action"])
        for resource in _list(statement["Resource"])
        if isinstance(resource, dict) and "Fn::GetAtt" in resource
    }


def test_a_worker_may_send_to_the_dead_letter_queue_of_the_queue_it_consumes_and_no_function_to_another() -> None:
    queues = resources("AWS::SQS::Queue")
    dead_letter_queues = {logical_id for logical_id in queues if logical_id.endswith("DLQ")}
    # What a worker dead-letters itself (a job message it cannot parse, oms_amazon.batch), by its variable.
    variables = {
        "StockSyncDLQ": "STOCK_SYNC_DLQ_URL",
        "OrderImportDLQ": "ORDER_IMPORT_DLQ_URL",
        "ShipmentDLQ": "SHIPMENT_DLQ_URL",
    }
    workers = 0
    for logical_id, function in FUNCTIONS.items():
        consumed = [
            e["Properties"]["Queue"]["Fn::GetAtt"][0]
            for e in function["Properties"]["Events"].values()
            if e["Type"] == "SQS"
        ]
        own = {queues[q]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in consumed}
        assert _queues_sent_to(logical_id) & dead_letter_queues == own, logical_id
        for dead_letter_queue in own:
            assert function_environment(logical_id)[variables[dead_letter_queue]] == {"Ref": dead_letter_queue}
        workers += bool(own)
    assert workers == 3


def test_the_scheduled_ticks_cannot_touch_a_secret() -> None:
    ticks = [lid for lid, f in FUNCTIONS.items() if f["Properties"]["Handler"].endswith(".tick")]
    assert ticks, "the ticks are found by their handler"
    for logical_id in ticks:
        assert not {a for a in actions(logical_id) if a.startswith("secretsmanager:")}, logical_id


def test_only_the_functions_that_call_amazon_read_a_sellers_token() -> None:
    assert {lid for lid in FUNCTIONS if _reads_seller_secrets(lid)} == CALLS_AMAZON
    app_credential_readers = {
        lid for lid in FUNCTIONS for s in statements(lid) if {"Ref": "AppCredentials"} in _list(s["Resource"])
    }
    assert app_credential_readers <= CALLS_AMAZON


def test_only_the_api_writes_or_deletes_a_sellers_token() -> None:
    writers = {
        lid
        for lid in FUNCTIONS
        if actions(lid)
        & {"secretsmanager:CreateSecret", "secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret"}
    }
    assert writers == {"ApiFunction"}


def test_no_function_may_scan_the_table_or_change_a_resource_definition() -> None:
    for logical_id in FUNCTIONS:
        forbidden = {
            a
            for a in actions(logical_id)
            if a in {"dynamodb:Scan", "dynamodb:PartiQLSelect", "secretsmanager:ListSecrets"}
            or re.match(r"^\w+:(Create|Delete|Update)(Table|Queue|EventBus|Rule)\b", a)
            or a.startswith(("iam:", "sts:", "lambda:"))
        }
        assert not forbidden, f"{logical_id}: {forbidden}"


def _tool(name: str, *venvs: str) -> str | None:
    for venv in venvs:
        candidate = Path(venv) / "bin" / name
        if candidate.exists():
            return str(candidate)
    return shutil.which(name)


def test_cfn_lint_finds_nothing() -> None:
    cfn_lint = _tool("cfn-lint", str(ROOT / ".venv-tools"), "/tmp/vtools")
    if cfn_lint is None:
        pytest.skip("cfn-lint is not installed here (`make validate` installs and runs it)")
    result = subprocess.run([cfn_lint, str(TEMPLATE)], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_finds_nothing_that_is_not_waived_in_the_template() -> None:
    checkov = _tool("checkov", str(ROOT / ".venv-checkov"))
    if checkov is None:
        pytest.skip("checkov is not installed here (`make checkov` installs and runs it)")
    result = subprocess.run(
        [checkov, "--file", str(TEMPLATE), "--framework", "cloudformation", "--skip-download", "--output", "json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    failed = [f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["results"]["failed_checks"]]
    assert summary["failed"] == 0, "\n".join(failed)
    for skipped in report["results"]["skipped_checks"]:
        reason = (skipped.get("check_result") or {}).get("suppress_comment") or ""
        assert len(reason.strip()) > 20, f"{skipped['check_id']} on {skipped['resource']} is waived without a reason"
