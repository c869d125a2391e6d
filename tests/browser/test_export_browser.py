"""The exported briefing map opened from disk in headless Chromium with no network."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.export import map_html
from tests.conftest import pytest_setup_options
from tests.unit.test_export import BOUNDS, CREDITS, DATA_TIME, HEADING, LEGEND, TITLES, sample_layers

pytestmark = pytest.mark.browser

#: A village name that would run script if it ever reached innerHTML.
EVIL = '<img src="x" onerror="window.__pwned = 1">村'


@pytest.fixture
def driver() -> Iterator[webdriver.Chrome]:
    options = pytest_setup_options()
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(options=options)
    try:
        yield chrome
    finally:
        chrome.quit()


def open_export(driver: webdriver.Chrome, tmp_path: Path, **overrides: object) -> None:
    page = map_html(
        sample_layers(cameras=3000, town_name=EVIL),
        titles=TITLES,
        bounds=BOUNDS,
        heading=HEADING,
        data_time=DATA_TIME,
        credits=CREDITS,
        legend=LEGEND,
        **overrides,  # type: ignore[arg-type]
    )
    path = tmp_path / "map.html"
    path.write_text(page, encoding="utf-8")
    driver.get(path.as_uri())
    WebDriverWait(driver, 15).until(
        lambda d: d.execute_script("return document.querySelectorAll('.leaflet-interactive').length > 0")
    )


def severe(driver: webdriver.Chrome) -> list[dict[str, object]]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_exp001_map_draws_offline_with_heading_and_no_console_errors(driver: webdriver.Chrome, tmp_path: Path) -> None:
    open_export(driver, tmp_path)
    heading = driver.find_element(By.CSS_SELECTOR, ".st-head h1")
    assert heading.is_displayed() and heading.text == HEADING
    assert DATA_TIME in driver.find_element(By.CSS_SELECTOR, ".st-head").text
    assert driver.find_element(By.CSS_SELECTOR, ".st-credits").text == CREDITS
    assert driver.title == HEADING
    drawn = driver.execute_script("return document.querySelectorAll('path.leaflet-interactive').length")
    assert drawn >= 3000 + 6 + 2  # cameras, segments, towns…
    labels = [e.text.strip() for e in driver.find_elements(By.CSS_SELECTOR, ".leaflet-control-layers-overlays label")]
    assert labels == [TITLES[n] for n in ("towns", "accidents", "segments", "cameras", "buses", "air", "scenic")]
    # Nothing was fetched: no resource besides the page itself.
    assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
    assert severe(driver) == []


def test_exp002_tooltips_show_data_as_text(driver: webdriver.Chrome, tmp_path: Path) -> None:
    open_export(driver, tmp_path)
    # Hover every town area (dashed outline) by event: cameras drawn on top would catch a real pointer.
    texts = driver.execute_script(
        """
        const seen = [];
        for (const path of document.querySelectorAll('path.leaflet-interactive[stroke-dasharray]')) {
            const box = path.getBoundingClientRect();
            const at = {bubbles: true, clientX: box.x + box.width / 2, clientY: box.y + box.height / 2};
            path.dispatchEvent(new MouseEvent('mouseover', at));
            path.dispatchEvent(new MouseEvent('mousemove', at));
            document.querySelectorAll('.leaflet-tooltip').forEach((tip) => seen.push(tip.textContent));
            path.dispatchEvent(new MouseEvent('mouseout', at));
        }
        return seen;
        """
    )
    assert any("山城街道" in t for t in texts), texts
    assert any(EVIL in t for t in texts), texts  # shown literally…
    assert driver.execute_script("return window.__pwned === undefined")  # …and never run
    assert severe(driver) == []
