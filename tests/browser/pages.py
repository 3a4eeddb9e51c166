"""How the browser tests drive the console: explicit waits with deadlines, and the few steps every test
repeats (open a view, wait until it is drawn, read a table)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

WAIT_SECONDS = 20.0


def wait_for[T](driver: Any, condition: Callable[[], T], what: str, timeout: float = WAIT_SECONDS) -> T:
    """The first truthy value of `condition` (polled every 50 ms); fails with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except (StaleElementReferenceException, WebDriverException) as error:  # the page is being redrawn
            last_error = error
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout} s: {what} (at {driver.current_url}; last error {last_error})")
        time.sleep(0.05)


def drawn(driver: Any) -> str:
    """The marker the console sets on <main> each time it finishes drawing a view."""
    return str(driver.execute_script("return document.getElementById('main')?.dataset.ready || ''"))


def wait_drawn(driver: Any, view: str, before: str = "") -> None:
    """Wait until `view` is drawn (again, if `before` is the marker of the previous drawing)."""
    wait_for(
        driver,
        lambda: driver.execute_script(
            "const m = document.getElementById('main'); return m && m.dataset.view === arguments[0] "
            "&& m.dataset.ready && m.dataset.ready !== arguments[1]",
            view,
            before,
        ),
        f"the console's {view} view",
    )


def open_view(driver: Any, base: str, client_id: str, view: str, query: str = "") -> None:
    before = drawn(driver) if driver.current_url.startswith(f"{base}/console/") else ""
    target = f"{base}/console/?as={client_id}#{view}{query}"
    if driver.current_url == target:
        driver.refresh()
    else:
        driver.get(target)
    wait_drawn(driver, view, before)


def find(driver: Any, css: str) -> WebElement:
    return wait_for(driver, lambda: _visible(driver, css), f"an element {css}")


def _visible(driver: Any, css: str) -> WebElement | None:
    for element in driver.find_elements(By.CSS_SELECTOR, css):
        if element.is_displayed():
            return element
    return None


def button(scope: Any, text: str) -> WebElement:
    """The visible button whose text is `text` (exactly, or starting with it)."""
    for element in scope.find_elements(By.TAG_NAME, "button"):
        label = element.text.strip()
        if element.is_displayed() and (label == text or label.startswith(text)):
            return element
    raise AssertionError(f"no button {text!r}")


def field(scope: Any, label: str) -> WebElement:
    """The form control labelled `label` (by its <label for>)."""
    for element in scope.find_elements(By.TAG_NAME, "label"):
        if element.text.strip() == label and element.get_attribute("for"):
            control: WebElement = scope.find_element(By.ID, element.get_attribute("for"))
            return control
    raise AssertionError(f"no field labelled {label!r}")


def fill(scope: Any, label: str, value: str) -> None:
    control = field(scope, label)
    if control.tag_name == "select":
        Select(control).select_by_value(value)
        return
    control.clear()
    control.send_keys(value)


def rows(driver: Any, caption: str) -> list[list[str]]:
    """The body rows of the table captioned `caption`, as cell texts."""
    for table in driver.find_elements(By.TAG_NAME, "table"):
        captions = table.find_elements(By.TAG_NAME, "caption")
        if captions and captions[0].text.strip().startswith(caption):
            return [
                [cell.text.strip() for cell in row.find_elements(By.TAG_NAME, "td")]
                for row in table.find_elements(By.CSS_SELECTOR, "tbody tr")
            ]
    return []


def row_with(driver: Any, caption: str, text: str) -> WebElement:
    for table in driver.find_elements(By.TAG_NAME, "table"):
        captions = table.find_elements(By.TAG_NAME, "caption")
        if captions and captions[0].text.strip().startswith(caption):
            for row in table.find_elements(By.CSS_SELECTOR, "tbody tr"):
                if text in row.text:
                    return row
    raise AssertionError(f"no row with {text!r} in {caption!r}")


def text_of(driver: Any) -> str:
    return str(driver.find_element(By.TAG_NAME, "body").text)
