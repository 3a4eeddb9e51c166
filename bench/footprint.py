"""What a cold Lambda pays before the first event: each handler module's import time, and the size of
the common layer (its installed dependencies plus the `oms_amazon` package)."""

from __future__ import annotations

import importlib.util
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import LAYER, ROOT

FUNCTIONS = ROOT / "functions"
_IMPORT_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|(\s*)(\S+)\s*$")


# --------------------------------------------------------------------------------------- cold imports


def handler_functions() -> list[str]:
    return sorted(p.parent.name for p in FUNCTIONS.glob("*/app.py"))


# `time` is built in (free to import); CPU time is what the import costs whatever else the machine runs.
_IMPORT_APP = "import time; started = time.process_time(); import app; print(time.process_time() - started)"


def _import_once(function: str) -> tuple[float, float, list[tuple[str, float]]]:
    """One fresh interpreter importing `functions/<function>/app.py` with the layer on its path, as
    Lambda's init does: the cumulative import time of `app` (ms, wall clock, from -X importtime), its CPU
    time (ms), and what app.py imported directly with their times."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(LAYER)
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed snippet)
        [sys.executable, "-X", "importtime", "-c", _IMPORT_APP],
        cwd=FUNCTIONS / function,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing functions/{function}/app.py failed:\n{done.stderr[-2000:]}")
    total, children = parse_importtime(done.stderr)
    if total is None:
        raise RuntimeError(f"no import time for functions/{function}/app.py")
    return total, float(done.stdout.strip().splitlines()[-1]) * 1000, children


def parse_importtime(stderr: str, module: str = "app") -> tuple[float | None, list[tuple[str, float]]]:
    """From `python -X importtime` output: `module`'s cumulative import time (ms), and each module it
    imported directly with its cumulative time. (A module's line follows those of what it imported, one
    indent level deeper.)"""
    total = None
    children: list[tuple[str, float]] = []
    pending: list[tuple[str, float]] = []
    for line in stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if not match:
            continue
        cumulative, indent, name = int(match.group(2)), len(match.group(3)), match.group(4)
        if indent == 3:
            pending.append((name, cumulative / 1000))
        elif indent == 1:
            if name == module:
                total, children = cumulative / 1000, pending
            pending = []
    return total, children


def cold_imports(runs: int = 7) -> dict[str, Any]:
    """Median over `runs` fresh interpreters, after one warm-up run (so bytecode is compiled, as it
    would be in a layer built with it). Wall-clock times grow when other processes compete for the
    CPU; `cpu_ms` does not, and the load average is recorded beside them."""
    result: dict[str, Any] = {}
    for function in handler_functions():
        _import_once(function)
        samples = [_import_once(function) for _ in range(runs)]
        heaviest: dict[str, list[float]] = {}
        for _, _, children in samples:
            for name, ms in children:
                heaviest.setdefault(name, []).append(ms)
        result[function] = {
            "ms": round(statistics.median(wall for wall, _, _ in samples), 1),
            "min_ms": round(min(wall for wall, _, _ in samples), 1),
            "cpu_ms": round(statistics.median(cpu for _, cpu, _ in samples), 1),
            "load_average": round(os.getloadavg()[0], 2),
            "heaviest": {
                name: round(statistics.median(values), 1)
                for name, values in sorted(heaviest.items(), key=lambda kv: -statistics.median(kv[1]))[:4]
            },
        }
    return result


# ---------------------------------------------------------------- cold imports as Lambda sees them


# The Lambda Python runtime's own packages (boto3 and its dependencies), which the layer leaves out.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "six")
MACHINE_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
_IMPORT_APP_TIMED = (
    "import time; wall, cpu = time.perf_counter(), time.process_time(); import app; "
    "print(time.perf_counter() - wall, time.process_time() - cpu)"
)


def host_architecture() -> str:
    return MACHINE_ARCH.get(platform.machine().lower(), "x86_64")


def build_layer(target: Path, architecture: str) -> Path:
    """`make build-CommonLayer` of layers/common/Makefile (what `sam build` runs for the layer) into
    `target`; returns the layer's `python` folder."""
    _make(
        "-s",
        "-C",
        str(LAYER),
        "build-CommonLayer",
        f"ARTIFACTS_DIR={target}",
        f"ARCH={architecture}",
        f"PYTHON={sys.executable}",
    )
    return target / "python"


def _make(*args: str) -> None:
    make = shutil.which("make")
    if make is None:
        raise OSError("make is not installed")
    subprocess.run(  # noqa: S603 (make, our own Makefiles)
        [make, "--no-print-directory", *args], check=True, capture_output=True, text=True, timeout=1800
    )


def _runtime_stand_in(target: Path) -> Path:
    """This venv's boto3 and its dependencies, alone in a folder, standing in for the runtime's (which
    come with their bytecode, as pip installed them here)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise RuntimeError(f"{name} is not installed in this venv")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (target / source.name).symlink_to(source)
    return target


def _lambda_environment(function: str, layer: Path, runtime: Path) -> dict[str, str]:
    """A fresh interpreter as Lambda starts one: the function's folder, then the layer, then the runtime's
    packages (nothing else: `-S` leaves this venv's site-packages out); no bytecode written, so each run
    finds only what the layer ships; the tracer on, as `observability.tracing_enabled()` decides it."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(FUNCTIONS / function), str(layer), str(runtime)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(FUNCTIONS / function),
        "AWS_LAMBDA_FUNCTION_NAME": f"oms-amazon-{function}",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
        "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        "POWERTOOLS_SERVICE_NAME": "oms-amazon-connector",
        "POWERTOOLS_METRICS_NAMESPACE": "OmsAmazonConnector",
    }


def _import_as_lambda(function: str, layer: Path, runtime: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(  # noqa: S603 (this interpreter, a fixed snippet)
        [sys.executable, "-S", *flags, "-c", _IMPORT_APP_TIMED],
        cwd=FUNCTIONS / function,
        env=_lambda_environment(function, layer, runtime),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"importing functions/{function}/app.py as Lambda failed:\n{done.stderr[-2000:]}")
    return done


def cold_imports_realistic(runs: int = 7, layer: Path | None = None) -> dict[str, Any]:
    """Each handler's import as Lambda's init pays it: median over `runs` fresh interpreters (after one
    warm-up for the file cache) importing `functions/<fn>/app.py` from the layer as
    layers/common/Makefile builds it for this machine's architecture (its bytecode and no other), with
    boto3 from this venv standing in for the runtime's, and the X-Ray tracer on."""
    with tempfile.TemporaryDirectory() as scratch:
        built = layer if layer is not None else build_layer(Path(scratch) / "layer", host_architecture())
        runtime = _runtime_stand_in(Path(scratch) / "runtime")
        result: dict[str, Any] = {}
        for function in handler_functions():
            _import_as_lambda(function, built, runtime)
            samples = []
            for _ in range(runs):
                wall, cpu = _import_as_lambda(function, built, runtime).stdout.split()[-2:]
                samples.append((float(wall) * 1000, float(cpu) * 1000))
            _, heaviest = parse_importtime(_import_as_lambda(function, built, runtime, "-X", "importtime").stderr)
            result[function] = {
                "ms": round(statistics.median(wall for wall, _ in samples), 1),
                "min_ms": round(min(wall for wall, _ in samples), 1),
                "cpu_ms": round(statistics.median(cpu for _, cpu in samples), 1),
                "runs": runs,
                "load_average": round(os.getloadavg()[0], 2),
                "heaviest": {name: round(ms, 1) for name, ms in sorted(heaviest, key=lambda kv: -kv[1])[:4]},
            }
        return result


# ----------------------------------------------------------------------------------------- layer size


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _top_name(entry: Path) -> str:
    return re.sub(r"-[^-]+\.dist-info$", "", entry.name) if entry.name.endswith(".dist-info") else entry.name


def _zip_bytes(root: Path) -> int:
    """The layer's zip as `sam deploy` uploads it (deflate), `python/` at its root."""
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "layer.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(root.rglob("*")):
                if path.is_file():
                    archive.write(path, Path("python") / path.relative_to(root))
        return target.stat().st_size


def _top_level(root: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for entry in root.iterdir():
        name = _top_name(entry)
        size = _tree_bytes(entry) if entry.is_dir() else entry.stat().st_size
        sizes[name] = sizes.get(name, 0) + size
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


SAM_LAYER = ROOT / ".aws-sam" / "build" / "CommonLayer"


def _sam_build(architecture: str) -> None:
    """`make build ARCH=...`: sam build of the whole template (from .venv-tools, installed if missing)."""
    _make("-C", str(ROOT), "build", f"ARCH={architecture}")


def layer_size(architecture: str | None = None, *, build: bool = True) -> dict[str, Any]:
    """The common layer as `sam build` leaves it in .aws-sam/build/CommonLayer: built here with
    `make build ARCH=...` unless `build` is false (then an existing build is measured, and said so)."""
    architecture = architecture or os.environ.get("ARCH", "arm64")
    method = f"make build ARCH={architecture} (sam build, layers/common/Makefile), .aws-sam/build/CommonLayer"
    if build:
        try:
            _sam_build(architecture)
        except (subprocess.SubprocessError, OSError) as error:
            detail = (getattr(error, "stderr", "") or str(error)).strip()[-300:]
            method = f"an earlier .aws-sam/build/CommonLayer (make build failed here: {detail})"
    else:
        method = "an earlier .aws-sam/build/CommonLayer (not rebuilt: --no-build)"
    root = SAM_LAYER / "python"
    if not root.is_dir():
        return {"bytes": None, "zip_bytes": None, "unzipped_mb": None, "zipped_mb": None, "method": method}
    unzipped, zipped = _tree_bytes(root), _zip_bytes(root)
    return {
        "bytes": unzipped,
        "zip_bytes": zipped,
        "unzipped_mb": round(unzipped / 1e6, 2),
        "zipped_mb": round(zipped / 1e6, 2),
        "architecture": architecture,
        "built_at": datetime.fromtimestamp(root.stat().st_mtime, UTC).isoformat(timespec="seconds"),
        "method": method,
        "largest": dict(list(_top_level(root).items())[:6]),
    }


# ------------------------------------------------------------------------------------ the listings report


def listings_report_peak(megabytes: float, *, whole: bool = False) -> dict[str, Any]:
    """Peak RSS of a process reading a generated listings report of `megabytes` (decompressed) through the
    real client and parse (`bench/listings_report.py`); `whole`: the earlier read-everything-then-parse."""
    env = {**os.environ, "POWERTOOLS_LOG_LEVEL": "WARNING", "POWERTOOLS_METRICS_DISABLED": "true"}
    done = subprocess.run(  # noqa: S603 (this interpreter, our own module)
        [sys.executable, "-m", "bench.listings_report", str(megabytes), *(["--whole"] if whole else [])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
