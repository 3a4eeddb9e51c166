"""Runs the template's Lambda functions in this process, as Lambda does: up to `concurrency`
invocations of each function at once (default 4, like a small reserved concurrency; the variable
`LOCAL_FUNCTION_CONCURRENCY` or `LocalStack(concurrency=...)` sets it), each with its own context,
with the environment the template gives them.

Each concurrent slot is a warm container of its own for the handler's module: its module-level
objects (the API resolver, a batch processor) are built per slot, as each Lambda container builds its
own. What differs from Lambda: the slots are threads of one process, so the layer's modules are
shared by every invocation, and so is the stack's one container (`oms_amazon.wiring`): its cached
properties may build an adapter twice when two cold invocations race (harmless: each is complete);
boto3 clients are thread-safe and the container builds them one at a time; the SP-API client's access
tokens, RDTs and rate-limit buckets are module state (locked) that every function and slot shares, so
concurrent invocations pace one seller's calls together where separate containers would each keep
buckets of their own.
Powertools keeps the logger's appended keys and the API resolver's current event once per process,
so the stack keeps each of them per thread (one invocation runs on one thread); its cold-start flag
is process-wide. Metrics are off locally (`POWERTOOLS_METRICS_DISABLED`); were they on, one metric
set would gather every invocation's counts. An invocation beyond the limit waits for a slot where
Lambda would throttle it, and each function's first invocation in a slot pays that slot's import
(Lambda's cold start).
"""

from __future__ import annotations

import copy
import importlib.util
import os
import sys
import threading
import time
import uuid
from abc import ABCMeta
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


DEFAULT_CONCURRENCY = 4
CONCURRENCY_VARIABLE = "LOCAL_FUNCTION_CONCURRENCY"


def configured_concurrency(value: int | None = None) -> int:
    """Concurrent invocations per function: `value`, else `LOCAL_FUNCTION_CONCURRENCY`, else 4."""
    if value is None:
        text = os.environ.get(CONCURRENCY_VARIABLE, "").strip()
        try:
            value = int(text) if text else DEFAULT_CONCURRENCY
        except ValueError:
            raise ValueError(f"{CONCURRENCY_VARIABLE} must be a whole number, not {text!r}") from None
    if value < 1:
        raise ValueError(f"a function needs at least one concurrent invocation, not {value}")
    return value


class _Containers:
    """One function's warm containers: at most `limit` busy at once, reused most recent first."""

    def __init__(self, logical_id: str, limit: int) -> None:
        self.logical_id = logical_id
        self.limit = limit
        self.timeout = function_timeout(logical_id)
        self._idle: list[Handler] = []
        self._started = 0
        self._free = threading.Condition()

    def take(self) -> Handler:
        with self._free:
            while not self._idle and self._started >= self.limit:
                self._free.wait()
            if self._idle:
                return self._idle.pop()
            self._started += 1
            slot = self._started
        try:
            handler = load_handler(self.logical_id, slot)
            keep_powertools_state_per_thread()
            return handler
        except BaseException:
            with self._free:
                self._started -= 1
                self._free.notify()
            raise

    def give_back(self, handler: Handler) -> None:
        with self._free:
            self._idle.append(handler)
            self._free.notify()


class LocalFunctions:
    def __init__(self, concurrency: int | None = None) -> None:
        self.concurrency = configured_concurrency(concurrency)
        self._containers: dict[str, _Containers] = {}
        self._lock = threading.Lock()

    def containers(self, logical_id: str) -> _Containers:
        with self._lock:
            if logical_id not in self._containers:
                self._containers[logical_id] = _Containers(logical_id, self.concurrency)
            return self._containers[logical_id]

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """One invocation with a context of its own, in a free slot (it waits for one when all are busy)."""
        containers = self.containers(logical_id)
        handler = containers.take()
        try:
            return handler(event, LambdaContext(function_name=logical_id, timeout_seconds=containers.timeout))
        finally:
            containers.give_back(handler)


def load_handler(logical_id: str, slot: int = 1) -> Handler:
    add_layer_to_path()
    props = resources("AWS::Serverless::Function")[logical_id]["Properties"]
    module_file, function_name = props["Handler"].rsplit(".", 1)
    path = ROOT / props["CodeUri"] / (module_file.replace(".", "/") + ".py")
    module = _import_file(f"lambda_{logical_id}_{slot}", path)
    handler: Handler = getattr(module, function_name)
    return handler


class _PerThread:
    """An attribute each thread sees on its own (a new thread starts from `initial`)."""

    def __init__(self, initial: Any = None) -> None:
        self._local = threading.local()
        self._initial = initial

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if not hasattr(self._local, "value"):
            self._local.value = copy.copy(self._initial)
        return self._local.value

    def __set__(self, instance: Any, value: Any) -> None:
        self._local.value = value


class _PerThreadClassAttributes(ABCMeta):
    """Lets `Class.name = value` (how Powertools' resolver records the current event) set the thread's value."""

    def __setattr__(cls, name: str, value: Any) -> None:
        held = cls.__dict__.get(name)
        if isinstance(held, _PerThread):
            held.__set__(None, value)
        else:
            super().__setattr__(name, value)


def keep_powertools_state_per_thread() -> None:
    """Powertools holds two things per process that belong to one invocation: the logger's appended keys
    (one dict on the formatter, cleared by `inject_lambda_context(clear_state=True)`) and the API
    resolver's current event and context (class attributes of `BaseRouter`, read by every router). Two
    concurrent invocations would log each other's client and request ids, and an API route would read
    another request's caller. Here each thread has its own."""
    from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
    from oms_amazon.observability import logger

    with _patching:
        formatter = logger.registered_formatter
        if not isinstance(type(formatter).__dict__.get("log_format"), _PerThread):
            keys = _PerThread(formatter.__dict__.pop("log_format"))
            per_thread = type(f"PerThread{type(formatter).__name__}", (type(formatter),), {"log_format": keys})
            formatter.__class__ = per_thread
        if not isinstance(BaseRouter.__dict__.get("current_event"), _PerThread):
            BaseRouter.__class__ = _PerThreadClassAttributes  # type: ignore[assignment]
            for name in ("current_event", "lambda_context"):
                type.__setattr__(BaseRouter, name, _PerThread(BaseRouter.__dict__.get(name)))


_patching = threading.Lock()


def _import_file(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered as an import registers it: what the module defines can find its own globals by name
    # (pydantic resolves a model's annotations through `sys.modules`).
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def apply_environment(values: dict[str, str]) -> None:
    os.environ.update(values)
