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
    return poll(check, what, timeout)


def poll(check, what: str, timeout: float = 20):  # type: ignore[no-untyped-def]
    """Poll ``check()`` in any browser until it returns something truthy, and return that; fail naming ``what``."""
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


def choose(driver, dropdown: str, label: str) -> None:  # type: ignore[no-untyped-def]
    """Pick ``label`` in a Dash dropdown the way an operator does: open it, click the option."""
    driver.find_element(By.CSS_SELECTOR, dropdown).click()
    xpath = f"//*[normalize-space(text())='{label}']"

    def shown():  # type: ignore[no-untyped-def]
        return next((o for o in driver.find_elements(By.XPATH, xpath) if o.is_displayed() and o.tag_name != "a"), None)

    option = poll(shown, f"the option {label}")
    option.click()


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
