"""The console in a real headless Chromium (Debian's `chromium` and `chromium-driver`, driven by Selenium),
on a local stack of its own: free ports, schedules idle, queue triggers running.

Chromium is started without its background connections (the test machine's network refuses them) and with
a fresh profile. Without Chromium the tests skip and say how to install it. Every wait has a deadline
(`wait_for`); nothing sleeps a fixed time. Screenshots go to `tests/browser/artifacts/` (git-ignored)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.stack import LocalStack, Ports

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
CHROMEDRIVER = shutil.which("chromedriver")
INSTALL = (
    "Chromium is not installed, so the console's browser tests are skipped. Install it with `sudo make browser` "
    "(apt-get install -y chromium chromium-driver; Debian or Ubuntu), as .ci/run does."
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)
WAIT_SECONDS = 20


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    running = LocalStack(
        ports=Ports(gateway=0, simulator=0, moto=0), log_level="WARNING", schedule_speedup=0.0001
    ).start()
    yield running
    running.stop()


@pytest.fixture(scope="package")
def chrome() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(INSTALL)
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed: make venv")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(chrome: Any, stack: LocalStack) -> Iterator[Any]:
    """The package's Chromium on a fresh stack: no data, no session left from another test."""
    from oms_amazon.adapters.sp_api import forget_amazon_state

    stack.reset()
    forget_amazon_state()
    chrome.get(f"{stack.api_url}/console/config.json")
    chrome.delete_all_cookies()
    chrome.execute_script("window.sessionStorage.clear()")
    yield chrome
    problems = [
        entry["message"]
        for entry in chrome.get_log("browser")
        if entry["level"] == "SEVERE" and "Content Security Policy" in entry["message"]
    ]
    assert not problems, f"the page broke its own Content-Security-Policy: {problems}"


@pytest.fixture
def api(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.api_url, timeout=30) as client:
        yield client


@pytest.fixture
def sim(stack: LocalStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.simulator_url, timeout=30) as client:
        yield client


@pytest.fixture
def shoot(request: pytest.FixtureRequest, chrome: Any) -> Callable[[str], Path]:
    """Save a screenshot of the page as a test artefact."""
    ARTIFACTS.mkdir(exist_ok=True)
    prefix = request.node.name.removeprefix("test_")[:40]

    def save(name: str) -> Path:
        path = ARTIFACTS / f"{prefix}-{name}.png"
        chrome.save_screenshot(str(path))
        return path

    return save
