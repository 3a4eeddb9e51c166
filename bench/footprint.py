"""What a cold Lambda pays before the first event: each handler module's import time, and the size of
the common layer (its installed dependencies plus the `oms_amazon` package)."""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from bench import LAYER, ROOT

FUNCTIONS = ROOT / "functions"
REQUIREMENTS = LAYER / "requirements.txt"
PACKAGE = LAYER / "oms_amazon"
# What the Lambda Python runtime already provides: boto3, botocore and their dependencies.
RUNTIME_PROVIDED = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "dateutil", "python_dateutil", "six", "six.py"}
)
PLATFORMS = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}
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


# ----------------------------------------------------------------------------------------- layer size


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _top_name(entry: Path) -> str:
    return re.sub(r"-[^-]+\.dist-info$", "", entry.name) if entry.name.endswith(".dist-info") else entry.name


def _zip_bytes(root: Path, leave_out: frozenset[str] = frozenset()) -> int:
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "layer.zip"
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
            for path in sorted(root.rglob("*")):
                top = root / path.relative_to(root).parts[0]
                if path.is_file() and _top_name(top) not in leave_out:
                    archive.write(path, Path("python") / path.relative_to(root))
        return target.stat().st_size


def _top_level(root: Path) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for entry in root.iterdir():
        name = _top_name(entry)
        size = _tree_bytes(entry) if entry.is_dir() else entry.stat().st_size
        sizes[name] = sizes.get(name, 0) + size
    return dict(sorted(sizes.items(), key=lambda kv: -kv[1]))


def _copy_package(target: Path) -> None:
    shutil.copytree(PACKAGE, target / PACKAGE.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def _pip_layer(target: Path, architecture: str) -> None:
    """What `sam build` does for a `BuildMethod: python3.13` layer: pip install the requirements for the
    Lambda platform into the layer, next to the source."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-warn-script-location",
        "--target",
        str(target),
        "--platform",
        PLATFORMS.get(architecture, PLATFORMS["arm64"]),
        "--implementation",
        "cp",
        "--python-version",
        "3.13",
        "--only-binary=:all:",
        "-r",
        str(REQUIREMENTS),
    ]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=600)  # noqa: S603 (our own pip)


def _requirement_names() -> list[str]:
    names = []
    for line in REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0])
    return names


def _venv_closure_bytes() -> tuple[int, dict[str, int]]:
    """Fallback without a package index: the requirements' installed distributions in this venv and
    everything they require (extras included), by the files their RECORDs list."""
    seen: dict[str, int] = {}
    queue = _requirement_names()
    extras = {
        re.split(r"[\[]", line, maxsplit=1)[0].strip().lower(): re.findall(r"\[([^\]]+)\]", line)
        for line in REQUIREMENTS.read_text().splitlines()
    }
    while queue:
        name = queue.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            seen[key] = 0
            continue
        seen[key] = sum(f.size or 0 for f in dist.files or () if "__pycache__" not in str(f))
        wanted = {e.strip() for group in extras.get(key, []) for e in group.split(",")}
        for requirement in dist.requires or ():
            spec, _, marker = requirement.partition(";")
            if "extra ==" in marker and not any(f'"{e}"' in marker or f"'{e}'" in marker for e in wanted):
                continue
            queue.append(re.split(r"[\[<>=!~ (]", spec.strip(), maxsplit=1)[0])
    return sum(seen.values()), dict(sorted(seen.items(), key=lambda kv: -kv[1]))


def layer_size(architecture: str | None = None) -> dict[str, Any]:
    architecture = architecture or os.environ.get("ARCH", "arm64")
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(scratch) / "python"
        try:
            _pip_layer(target, architecture)
        except (subprocess.SubprocessError, OSError) as error:
            detail = getattr(error, "stderr", "") or str(error)
            total, parts = _venv_closure_bytes()
            package = _tree_bytes(PACKAGE) - sum(_tree_bytes(p) for p in PACKAGE.rglob("__pycache__"))
            return {
                "bytes": total + package,
                "zip_bytes": None,
                "method": f"installed distributions in this venv (pip install failed: {detail.strip()[-200:]})",
                "largest": dict(list({**parts, "oms_amazon": package}.items())[:6]),
            }
        _copy_package(target)
        parts = _top_level(target)
        provided = sum(size for name, size in parts.items() if name in RUNTIME_PROVIDED)
        return {
            "bytes": _tree_bytes(target),
            "zip_bytes": _zip_bytes(target),
            # What closing the gap could look like: the same layer without what the runtime has.
            "bytes_without_runtime_provided": _tree_bytes(target) - provided,
            "zip_bytes_without_runtime_provided": _zip_bytes(target, RUNTIME_PROVIDED),
            "method": f"pip install -r layers/common/requirements.txt --target (Lambda {architecture}) + oms_amazon",
            "largest": dict(list(parts.items())[:6]),
        }
