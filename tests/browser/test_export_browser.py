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


def test_exp003_a_department_head_exports_their_scene_and_sees_only_their_layers(  # type: ignore[no-untyped-def]
    dash_duo, live_app, free_port, tmp_path: Path
) -> None:
    """An environment head signs in, finds the export links on their scene, downloads both files with their
    session, and opens the map file: their layers and the base map only, in the live map's layer control too."""
    from dashboard.accounts import Accounts
    from dashboard.kpis import CATALOGUE
    from tests.browser.helpers import texts, wait_for
    from tests.conftest import NOW

    app = live_app(auth={"trust_localhost": False})
    accounts = Accounts(app.server.extensions["shanting.services"].sources.store)
    if accounts.get("environment-head") is None:  # the live store is shared by the session's browser tests
        accounts.create("environment-head", PASSWORD, "department", NOW, domains=("environment",))
    dash_duo.start_server(app, navigate=False, port=free_port)
    base = dash_duo.server.url
    dash_duo.driver.get(f"{base}/login?next=/environment")
    dash_duo.wait_for_element("#login-form", timeout=10)
    dash_duo.find_element("#username").send_keys("environment-head")
    dash_duo.find_element("#password").send_keys(PASSWORD)
    dash_duo.find_element("#login-submit").click()
    dash_duo.wait_for_element("#env-stations", timeout=30)
    own = {"镇街专题", "村居", "空气站", "水质断面"}  # the town areas (coloured by AQI) and villages are base
    live = wait_for(dash_duo, lambda: [s.strip() for s in texts(dash_duo, LAYER_LABELS)], "layer list")
    assert set(live) == own and len(live) == len(own)

    csv_status, csv_text = fetch(dash_duo, dash_duo.find_element("#export-csv").get_attribute("href"))
    assert csv_status == 200 and "数据时间" in csv_text
    assert all(s.title_zh in csv_text for s in CATALOGUE.for_domain("environment"))
    assert not any(s.title_zh in csv_text for s in CATALOGUE.specs if s.domain != "environment")
    map_status, page = fetch(dash_duo, dash_duo.find_element("#export-map").get_attribute("href"))
    assert map_status == 200
    forged_status, _ = fetch(dash_duo, f"{base}/export/map.html?layers=cameras")
    assert forged_status == 403
    # Console: only the forged request's 403.
    assert [e["message"] for e in dash_duo.get_logs() if "status of 403" not in e["message"]] == []

    path = tmp_path / "map.html"
    path.write_text(page, encoding="utf-8")
    dash_duo.driver.get(path.as_uri())
    wait_for(dash_duo, lambda: texts(dash_duo, LAYER_LABELS), "the file's layer control")
    assert {s.strip() for s in texts(dash_duo, LAYER_LABELS)} == own


LAYER_LABELS = ".leaflet-control-layers-overlays label"
PASSWORD = "a long demo password"


def fetch(dash_duo, url: str) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """GET ``url`` from the page, with the browser's session: (status, body)."""
    script = (
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0]).then(r => r.text().then(t => done([r.status, t]))).catch(e => done([0, String(e)]));"
    )
    status, body = dash_duo.driver.execute_async_script(script, url)
    return int(status), str(body)
