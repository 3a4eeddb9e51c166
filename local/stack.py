"""The embedded local stack (SPEC §8): moto for AWS, the SP-API simulator for Amazon, and the
template's functions in process behind a local API gateway, fired by local schedules and queue
pollers. Tables, queues, schedules and environments all come from `template.yaml`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from secrets import token_urlsafe
from typing import Any

import boto3

from local.functions import LocalFunctions, add_layer_to_path, apply_environment, resolve_environment
from local.gateway import LocalGateway
from local.moto_threads import guard_dynamodb, guard_secretsmanager, guard_sqs
from local.template import parameter_defaults, queue_definitions, resources, table_definitions

STACK_NAME = "oms-amazon-local"
REGION = "eu-west-2"
ACCOUNT = "123456789012"
LWA_CLIENT_ID = "amzn1.application-oa2-client.local"
LWA_CLIENT_SECRET = "local-secret"
APPLICATION_ID = "amzn1.sp.solution.local"
GENERATED_SECRET = token_urlsafe(48)


@dataclass
class Ports:
    gateway: int = 3000
    simulator: int = 8100
    moto: int = 5000


def aws_environment(moto_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def local_parameters(simulator_url: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template's parameters as the local stack sets them: Amazon is the simulator."""
    parameters = parameter_defaults()
    parameters.update(
        {
            "Stage": "local",
            "SpApiEndpoint": simulator_url,
            "LwaTokenUrl": f"{simulator_url}/auth/o2/token",
            # The simulator plays Seller Central too: consent pages and the Appstore workflow's callback.
            "SellerCentralUrl": simulator_url,
        }
    )
    for name in parameters:
        env_name = f"LOCAL_{name.upper()}"
        if env_name in os.environ:
            parameters[name] = os.environ[env_name]
    parameters.update(overrides or {})
    return parameters


def physical_names(parameters: dict[str, Any] | None = None, endpoint: str = "http://127.0.0.1:5000") -> dict[str, str]:
    """Local physical names for the template's resources, parameters and pseudo parameters."""
    names = {
        "AWS::StackName": STACK_NAME,
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
    }
    names.update({k: str(v) for k, v in (parameters or local_parameters("http://127.0.0.1:8100")).items()})
    for logical_id in resources("AWS::DynamoDB::Table"):
        names[logical_id] = f"{STACK_NAME}-{logical_id}"
    for queue in queue_definitions():
        queue_name = f"{STACK_NAME}-{queue.logical_id}" + (".fifo" if queue.fifo else "")
        names[queue.logical_id] = f"{endpoint}/{ACCOUNT}/{queue_name}"
        names[f"{queue.logical_id}.Arn"] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{queue_name}"
        names[f"{queue.logical_id}.QueueName"] = queue_name
    for logical_id in resources("AWS::Events::EventBus"):
        names[logical_id] = f"{STACK_NAME}-events"
    for logical_id, secret in resources("AWS::SecretsManager::Secret").items():
        names[logical_id] = secret["Properties"]["Name"]["Fn::Sub"].replace("${AWS::StackName}", STACK_NAME)
    for logical_id, alias in resources("AWS::KMS::Alias").items():
        names[logical_id] = alias["Properties"]["AliasName"]["Fn::Sub"].replace("${AWS::StackName}", STACK_NAME)
    # No Cognito locally (the gateway fills the claims): the console signs in with `?as=<client_id>`.
    for logical_id in resources("AWS::Cognito::UserPoolDomain"):
        names[logical_id] = "local"
    return names


def create_resources(names: dict[str, str], client_factory: Any = boto3.client) -> None:
    """The template's tables, queues, buses, KMS keys and app secret in the current AWS endpoint;
    existing ones are kept."""
    dynamodb = client_factory("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for request in table_definitions(names):
        if request["TableName"] not in existing:
            dynamodb.create_table(**request)
    sqs = client_factory("sqs")
    for queue in queue_definitions():
        attributes = dict(queue.attributes)
        if queue.dead_letter_target:
            attributes["RedrivePolicy"] = json.dumps(
                {
                    "deadLetterTargetArn": names[f"{queue.dead_letter_target}.Arn"],
                    "maxReceiveCount": queue.max_receive_count,
                }
            )
        sqs.create_queue(QueueName=names[f"{queue.logical_id}.QueueName"], Attributes=attributes)
    kms = client_factory("kms")
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    for logical_id, alias in resources("AWS::KMS::Alias").items():
        if names[logical_id] not in aliases:
            key = resources("AWS::KMS::Key")[alias["Properties"]["TargetKeyId"]["Ref"]]["Properties"]
            key_id = kms.create_key(Description=STACK_NAME + " " + logical_id, KeyUsage=key["KeyUsage"])["KeyMetadata"]
            kms.create_alias(AliasName=names[logical_id], TargetKeyId=key_id["KeyId"])
    events = client_factory("events")
    for logical_id in resources("AWS::Events::EventBus"):
        if names[logical_id] not in {b["Name"] for b in events.list_event_buses()["EventBuses"]}:
            events.create_event_bus(Name=names[logical_id])
    secrets = client_factory("secretsmanager")
    for logical_id, secret in resources("AWS::SecretsManager::Secret").items():
        if "GenerateSecretString" in secret["Properties"]:
            # A key Secrets Manager generates in AWS (the OAuth state key): random here too, one per
            # process, so a reset empties data but does not rotate keys a warm function holds.
            with contextlib.suppress(secrets.exceptions.ResourceExistsException):
                secrets.create_secret(Name=names[logical_id], SecretString=GENERATED_SECRET)
            continue
        app = {"client_id": LWA_CLIENT_ID, "client_secret": LWA_CLIENT_SECRET, "application_id": APPLICATION_ID}
        try:
            secrets.create_secret(Name=names[logical_id], SecretString=json.dumps(app))
        except secrets.exceptions.ResourceExistsException:
            secrets.put_secret_value(SecretId=names[logical_id], SecretString=json.dumps(app))


def function_environments(names: dict[str, str]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for logical_id in resources("AWS::Serverless::Function"):
        merged.update(resolve_environment(logical_id, names))
    merged["STAGE"] = "local"
    merged["POWERTOOLS_TRACE_DISABLED"] = "true"
    merged["POWERTOOLS_METRICS_DISABLED"] = "true"
    return merged


@dataclass
class LocalStack:
    ports: Ports = field(default_factory=Ports)
    log_level: str = "INFO"
    schedule_speedup: float = 1.0
    triggers: bool = True
    concurrency: int | None = None  # invocations per function at once; None: LOCAL_FUNCTION_CONCURRENCY or 4
    moto: Any = None
    simulator: Any = None
    gateway: LocalGateway | None = None
    functions: LocalFunctions = field(default_factory=LocalFunctions)
    names: dict[str, str] = field(default_factory=dict)
    runner: Any = None

    def __post_init__(self) -> None:
        if self.concurrency is not None:
            self.functions = LocalFunctions(self.concurrency)

    @property
    def moto_url(self) -> str:
        host, port = self.moto.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    @property
    def simulator_url(self) -> str:
        return str(self.simulator.url)

    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer

        from local.simulator import SimulatorServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        guard_dynamodb()
        guard_sqs()
        guard_secretsmanager()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports.moto, verbose=False)
        self.moto.start()
        self.simulator = SimulatorServer(host="127.0.0.1", port=self.ports.simulator)
        self.simulator.start()
        apply_environment(aws_environment(self.moto_url))
        self.names = physical_names(local_parameters(self.simulator_url), endpoint=self.moto_url)
        create_resources(self.names)
        apply_environment({**function_environments(self.names), "POWERTOOLS_LOG_LEVEL": self.log_level})
        install_container()
        self.gateway = LocalGateway(self.functions, port=self.ports.gateway)
        self.gateway.start()
        self.register_app()
        if self.triggers:
            from local.triggers import TriggerRunner

            self.runner = TriggerRunner(self.functions, self.names, speedup=self.schedule_speedup)
            self.runner.start()
        return self

    def stop(self) -> None:
        if self.runner is not None:
            self.runner.stop()
        if self.gateway is not None:
            self.gateway.stop()
        if self.simulator is not None:
            self.simulator.stop()
        if self.moto is not None:
            self.moto.stop()

    def reset(self) -> None:
        """Empty every table, queue and the simulator (the stack keeps running; its pollers wait
        until the queues exist again)."""
        import urllib.request

        with self.runner.paused() if self.runner is not None else contextlib.nullcontext():
            for url in (f"{self.moto_url}/moto-api/reset", f"{self.simulator_url}/_sim/reset"):
                urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=10).close()
            create_resources(self.names)
            self.register_app()

    def register_app(self) -> None:
        """The connector's app as registered with Amazon: the simulator's Seller Central pages send the seller
        back to this stack's `/oauth/callback` and start the Appstore workflow at its `/oauth/login`."""
        import urllib.request

        registration = {
            "app_redirect_uris": [f"{self.api_url}/oauth/callback"],
            "app_login_uri": f"{self.api_url}/oauth/login",
        }
        request = urllib.request.Request(
            f"{self.simulator_url}/_sim/config",
            data=json.dumps(registration).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()

    def take_faults(self) -> list[str]:
        """What went wrong in the stack's own machinery since the last call (never a function's
        error, which is the function's outcome): a sound stack has none."""
        return self.runner.take_faults() if self.runner is not None else []


def install_container() -> None:
    """The functions' adapters (boto3 clients, settings, services) belong to one stack: each stack makes its
    own container from its environment, so a stack started later in the same process (tests) never
    inherits another's endpoints."""
    add_layer_to_path()
    from oms_amazon import wiring

    wiring.install(wiring.Container.from_environment())


def environment_for_invoke(moto_url: str, simulator_url: str) -> dict[str, str]:
    names = physical_names(local_parameters(simulator_url), endpoint=moto_url)
    return {**aws_environment(moto_url), **function_environments(names)}
