"""Reading a live Dash page whose panels re-render every refresh (shared by the scene tests)."""

from __future__ import annotations

import time

from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By

FAILING = "数据源异常"


def count(dash_duo, css: str) -> int:  # type: ignore[no-untyped-def]
    return len(dash_duo.driver.find_elements(By.CSS_SELECTOR, css))


def wait_for(dash_duo, check, what: str, timeout: float = 20):  # type: ignore[no-untyped-def]
    """Poll ``check()`` until it returns something truthy (the page re-renders under us meanwhile)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except (StaleElementReferenceException, NoSuchElementException):  # re-rendering or not yet there
            last = None
        if last:
            return last
        time.sleep(0.3)
    raise AssertionError(f"{what}: never happened (last: {last!r})")


def text(dash_duo, css: str) -> str:  # type: ignore[no-untyped-def]
    return str(dash_duo.find_element(css).text)


def texts(dash_duo, css: str) -> list[str]:  # type: ignore[no-untyped-def]
    return [str(e.text) for e in dash_duo.find_elements(css)]


def click_nth(dash_duo, css: str, n: int) -> str:  # type: ignore[no-untyped-def]
    """Click the n-th link and return its text (raises Stale… for wait_for to retry)."""
    link = dash_duo.driver.find_elements(By.CSS_SELECTOR, css)[n]
    name = str(link.text)
    link.click()
    return name
