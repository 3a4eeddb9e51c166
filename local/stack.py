"""The embedded local stack (SPEC §8): moto for AWS, the template's functions in process behind a
local API gateway. Everything is created from `template.yaml`."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

import boto3

from local.functions import LocalFunctions, apply_environment, resolve_environment
from local.gateway import LocalGateway
from local.template import resources, table_definitions

STACK_NAME = "oms-amazon-local"
REGION = "eu-west-2"


@dataclass
class Ports:
    gateway: int = 3000
    simulator: int = 8100
    moto: int = 5000


def physical_names() -> dict[str, str]:
    """Local physical names for the template's resources and pseudo parameters."""
    names = {"AWS::StackName": STACK_NAME, "AWS::Region": REGION, "AWS::AccountId": "123456789012", "Stage": "local"}
    for logical_id in resources("AWS::DynamoDB::Table"):
        names[logical_id] = f"{STACK_NAME}-{logical_id}"
    return names


def aws_environment(moto_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
    }


def create_resources(client_factory: Any = boto3.client) -> None:
    """The template's tables (and, as the template grows, queues and buses) in the current AWS
    endpoint; existing ones are kept."""
    dynamodb = client_factory("dynamodb")
    existing = set(dynamodb.list_tables()["TableNames"])
    for request in table_definitions(physical_names()):
        if request["TableName"] not in existing:
            dynamodb.create_table(**request)


def function_environments() -> dict[str, str]:
    names = physical_names()
    merged: dict[str, str] = {}
    for logical_id in resources("AWS::Serverless::Function"):
        merged.update(resolve_environment(logical_id, names))
    merged["STAGE"] = "local"
    merged["POWERTOOLS_TRACE_DISABLED"] = "true"
    return merged


@dataclass
class LocalStack:
    ports: Ports = field(default_factory=Ports)
    moto: Any = None
    gateway: LocalGateway | None = None
    functions: LocalFunctions = field(default_factory=LocalFunctions)
    log_level: str = "INFO"

    @property
    def moto_url(self) -> str:
        host, port = self.moto.get_host_and_port()
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        assert self.gateway is not None
        return self.gateway.url

    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.ports.moto, verbose=False)
        self.moto.start()
        apply_environment(aws_environment(self.moto_url))
        apply_environment({**function_environments(), "POWERTOOLS_LOG_LEVEL": self.log_level})
        create_resources()
        self.gateway = LocalGateway(self.functions, port=self.ports.gateway)
        self.gateway.start()
        return self

    def stop(self) -> None:
        if self.gateway is not None:
            self.gateway.stop()
        if self.moto is not None:
            self.moto.stop()

    def reset(self) -> None:
        """Empty every table (the stack keeps running)."""
        import urllib.request

        request = urllib.request.Request(f"{self.moto_url}/moto-api/reset", method="POST")
        urllib.request.urlopen(request, timeout=10).close()
        create_resources()


def environment_for_invoke(moto_url: str) -> dict[str, str]:
    return {**aws_environment(moto_url), **function_environments()}


def getenv_or(name: str, default: str) -> str:
    return os.environ.get(name, default)
