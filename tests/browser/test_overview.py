"""The overview in headless Chromium at 1920×1080: layers, tiles, drill-down, back."""

from __future__ import annotations

import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from tests.browser.helpers import count

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

TOWN_PATH = "path.leaflet-interactive[stroke-dasharray='4 3']"
VILLAGE_PATH = "path.leaflet-interactive[stroke='#cfd8e3']"


def wait_tiles(dash_duo, timeout: float = 20) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Every tile's text once all have left the '…' placeholder."""
    deadline = time.monotonic() + timeout
    tiles: dict[str, str] = {}
    while time.monotonic() < deadline:
        try:
            tiles = {t.get_attribute("data-kpi"): t.text for t in dash_duo.find_elements(".kpi")}
        except StaleElementReferenceException:  # the page re-rendered under us
            continue
        if tiles and all("…" not in text for text in tiles.values()):
            return tiles
        time.sleep(0.3)
    raise AssertionError(f"tiles did not fill: {tiles}")


def cameras_counted(dash_duo) -> int:  # type: ignore[no-untyped-def]
    """How many cameras the working-rate tile is computed over (its label)."""
    wait_tiles(dash_duo)
    return int(dash_duo.find_element("[data-kpi=working_rate] .kpi-label").text)


def wait_count(dash_duo, css: str, pred, timeout: float = 15) -> int:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        n = count(dash_duo, css)
        if pred(n):
            return n
        time.sleep(0.3)
    raise AssertionError(f"{css}: count {n} never satisfied the condition")


def test_ovw001_every_layer_and_tile_with_real_values(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    tiles = wait_tiles(dash_duo)
    assert len(tiles) == 18
    assert "数据源异常" not in " ".join(tiles.values())
    assert any(ch.isdigit() for ch in tiles["working_rate"]) and any(ch.isdigit() for ch in tiles["aqi"])
    overlays = [e.text for e in dash_duo.find_elements(".leaflet-control-layers-overlays label")]
    assert overlays == [
        "镇街专题",
        "村居",
        "路况",
        "事故热力",
        "视频点位",
        "公交车辆",
        "空气站",
        "水质断面",
        "景区客流",
    ]
    assert wait_count(dash_duo, TOWN_PATH, lambda n: n == 10) == 10
    wait_count(dash_duo, ".air-icon", lambda n: n == 11)
    wait_count(dash_duo, ".cam-cluster", lambda n: n > 0)
    wait_count(dash_duo, "path.leaflet-interactive", lambda n: n > 100)  # segments and towns
    assert dash_duo.find_element("#breadcrumb").text == "山亭区"
    assert dash_duo.get_logs() == []


def test_ovw002_toggling_a_layer_hides_it(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    wait_count(dash_duo, ".air-icon", lambda n: n == 11)
    boxes = {e.text: e for e in dash_duo.find_elements(".leaflet-control-layers-overlays label")}
    boxes["空气站"].find_element(By.TAG_NAME, "input").click()
    wait_count(dash_duo, ".air-icon", lambda n: n == 0)
    boxes["空气站"].find_element(By.TAG_NAME, "input").click()
    wait_count(dash_duo, ".air-icon", lambda n: n == 11)
    assert dash_duo.get_logs() == []


def crumb_parts(dash_duo, n: int, timeout: float = 15) -> list[str]:  # type: ignore[no-untyped-def]
    """The breadcrumb's parts once it has ``n`` of them."""
    deadline = time.monotonic() + timeout
    parts: list[str] = []
    while time.monotonic() < deadline:
        try:
            parts = [p.strip() for p in dash_duo.find_element("#breadcrumb").text.split("›")]
        except StaleElementReferenceException:
            continue
        if len(parts) == n:
            return parts
        time.sleep(0.3)
    raise AssertionError(f"breadcrumb never had {n} parts: {parts}")


def click(dash_duo, css: str, index: int = 0) -> None:  # type: ignore[no-untyped-def]
    """Click a map feature the way Leaflet sees it (a DOM click on its path)."""
    wait_count(dash_duo, css, lambda n: n > index)
    target = dash_duo.driver.find_elements(By.CSS_SELECTOR, css)[index]
    dash_duo.driver.execute_script("arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", target)


def test_ovw003_drill_district_town_village_and_back(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    district = cameras_counted(dash_duo)
    click(dash_duo, TOWN_PATH, 3)
    town = crumb_parts(dash_duo, 2)
    assert town[0] == "山亭区" and town[1].endswith(("镇", "街道"))
    assert "scope=town" in dash_duo.driver.current_url
    in_town = cameras_counted(dash_duo)
    assert 0 < in_town < district
    wait_count(dash_duo, ".air-icon", lambda n: 1 <= n <= 2)  # the town's own station(s)
    click(dash_duo, VILLAGE_PATH)  # … then one of its 村居: the tiles narrow again
    village = crumb_parts(dash_duo, 3)
    assert village[:2] == town and "scope=village" in dash_duo.driver.current_url
    assert cameras_counted(dash_duo) <= in_town
    dash_duo.driver.back()
    assert crumb_parts(dash_duo, 2) == town
    dash_duo.driver.back()
    assert crumb_parts(dash_duo, 1) == ["山亭区"]
    assert cameras_counted(dash_duo) == district
    assert dash_duo.get_logs() == []


@pytest.mark.parametrize(
    ("query", "title"), [("?scope=town:999", "无效的范围参数"), ("?scope=town:370406999", "找不到该范围")]
)
def test_ovw004_bad_scope_in_the_url_is_explained(dash_duo, live_app, free_port, query: str, title: str) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    dash_duo.driver.get(dash_duo.server_url + "/" + query)
    dash_duo.wait_for_text_to_equal(".scope-title", title, timeout=10)
    assert dash_duo.find_element(".brand-name").text == "山亭大脑"


def test_ovw005_failing_source_shows_on_its_tiles_only(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    app = live_app(
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"air_readings": "env"},
    )
    dash_duo.start_server(app, port=free_port)
    tiles = wait_tiles(dash_duo)
    assert tiles["aqi"].endswith("数据源异常") and tiles["good_days"].endswith("数据源异常")
    assert "数据源异常" not in tiles["working_rate"]
    assert dash_duo.get_logs() == []
