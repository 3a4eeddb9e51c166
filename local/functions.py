"""Runs the template's Lambda functions in this process, one invocation at a time per function
(as one warm container would), with the environment the template gives them."""

from __future__ import annotations

import importlib.util
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.template import ROOT, function_environment, function_timeout, resources

Handler = Callable[[dict[str, Any], Any], Any]
LAYER_PATH = ROOT / "layers" / "common"


def add_layer_to_path() -> None:
    """What Lambda does with a layer: its packages become importable (from /opt/python there)."""
    if str(LAYER_PATH) not in sys.path:
        sys.path.insert(0, str(LAYER_PATH))


@dataclass
class LambdaContext:
    """The attributes of Lambda's context object that Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    timeout_seconds: float = 3.0  # the template's Timeout: what the invocation may take
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self.started)) * 1000))


def resolve_environment(logical_id: str, physical: dict[str, str]) -> dict[str, str]:
    """The function's template environment with every `!Ref`/`!Sub` resolved to local names."""
    resolved = {}
    for name, value in function_environment(logical_id).items():
        resolved[name] = _resolve(value, physical)
    return resolved


def _resolve(value: Any, physical: dict[str, str]) -> str:
    if isinstance(value, str | int | float | bool):
        return str(value)
    if "Ref" in value:
        return physical[value["Ref"]]
    if "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for name, replacement in physical.items():
            text = text.replace("${" + name + "}", replacement)
        return str(text)
    if "Fn::GetAtt" in value:
        return physical[".".join(value["Fn::GetAtt"])]
    raise ValueError(f"cannot resolve {value!r} locally")


class LocalFunctions:
    def __init__(self) -> None:
        self._handlers: dict[str, Handler] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._timeouts: dict[str, float] = {}

    def handler(self, logical_id: str) -> Handler:
        if logical_id not in self._handlers:
            self._handlers[logical_id] = load_handler(logical_id)
            self._locks[logical_id] = threading.Lock()
            self._timeouts[logical_id] = function_timeout(logical_id)
        return self._handlers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        handler = self.handler(logical_id)
        with self._locks[logical_id]:
            return handler(event, LambdaContext(function_name=logical_id, timeout_seconds=self._timeouts[logical_id]))


def load_handler(logical_id: str) -> Handler:
    add_layer_to_path()
    props = resources("AWS::Serverless::Function")[logical_id]["Properties"]
    module_file, function_name = props["Handler"].rsplit(".", 1)
    path = ROOT / props["CodeUri"] / (module_file.replace(".", "/") + ".py")
    module = _import_file(f"lambda_{logical_id}", path)
    handler: Handler = getattr(module, function_name)
    return handler


def _import_file(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def apply_environment(values: dict[str, str]) -> None:
    os.environ.update(values)
