"""The shell in headless Chromium: header, clock, navigation, health strip, language."""

from __future__ import annotations

import re

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from datasources.contracts import CONTRACTS

pytestmark = [
    pytest.mark.browser,
    # dash.testing stops its threaded server by raising SystemExit in a request
    # thread; real callback errors still fail these tests through get_logs().
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


def chips(dash_duo, attempts: int = 10) -> dict[str, tuple[str, str]]:  # type: ignore[no-untyped-def]
    """domain → (state, text) of the health strip, read again if a refresh replaced it mid-read."""
    for _ in range(attempts):
        try:
            found = dash_duo.find_elements("#health-strip .chip")
            return {c.get_attribute("data-domain"): (c.get_attribute("data-state"), c.text) for c in found}
        except StaleElementReferenceException:
            continue
    raise AssertionError("the health strip kept going stale")


def table_rows(dash_duo, attempts: int = 10) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """feed → row class of the data table, read again if a refresh replaced it mid-read."""
    for _ in range(attempts):
        try:
            rows = dash_duo.find_elements("#data-table tbody tr")
            return {r.get_attribute("data-feed"): r.get_attribute("class") for r in rows}
        except StaleElementReferenceException:
            continue
    raise AssertionError("the data table kept going stale")


def test_shell001_header_clock_nav_and_health_from_the_live_store(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    dash_duo.wait_for_text_to_equal(".brand-name", "山亭大脑", timeout=10)
    dash_duo.wait_for_element("#health-strip .chip", timeout=15)
    clock = dash_duo.find_element("#clock").text
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", clock), clock
    links = [a.text for a in dash_duo.find_elements(".scene-nav a")]
    assert links == ["总览", "交通", "治安视频", "生态环境", "文旅客流", "星级评估", "数据接入", "事件处置"]
    state = chips(dash_duo)
    assert set(state) == {"transport", "video", "environment", "tourism", "rating", "events", "geo"}
    for domain in ("transport", "video", "environment", "tourism", "geo"):
        assert state[domain][0] in ("fresh", "static", "event"), (domain, state[domain])
    dash_duo.find_elements(".scene-nav a")[5].click()  # 星级评估 (issue #8): the scene, not a placeholder
    dash_duo.wait_for_element("#rat-tree tr.rat-row", timeout=30)
    assert not dash_duo.driver.find_elements("css selector", ".placeholder")
    assert dash_duo.get_logs() == []


def test_shell002_english_switch_keeps_the_page(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    dash_duo.wait_for_text_to_equal(".brand-name", "山亭大脑", timeout=10)
    dash_duo.find_elements(".scene-nav a")[6].click()
    dash_duo.wait_for_element("#data-table table", timeout=10)
    dash_duo.find_element("#lang-link").click()
    dash_duo.wait_for_text_to_equal(".brand-name", "Shanting Brain", timeout=10)
    assert dash_duo.driver.current_url.endswith("/data")
    assert dash_duo.find_element(".scene-title").text == "Data feeds"
    assert dash_duo.get_logs() == []


def test_shell003_failing_source_degrades_only_its_domain(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    app = live_app(
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"air_readings": "env", "air_stations": "env"},
    )
    dash_duo.start_server(app, port=free_port)
    dash_duo.wait_for_element("#health-strip .chip.state-failing", timeout=15)
    state = chips(dash_duo)
    assert state["environment"][0] == "failing" and "数据源异常" in state["environment"][1]
    assert state["transport"][0] == "fresh"
    assert dash_duo.get_logs() == []


def test_shell004_data_page_lists_every_feed_with_its_state(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    dash_duo.wait_for_element(".scene-nav a", timeout=10)
    dash_duo.driver.get(dash_duo.server_url + "/data")
    dash_duo.wait_for_element("#data-table tbody tr", timeout=15)
    feeds = table_rows(dash_duo)
    assert len(feeds) == len(CONTRACTS)
    assert feeds["air_readings"] == "row-fresh" and feeds["events"] == "row-empty"
    active = dash_duo.find_elements(".scene-nav a.active")
    assert [a.text for a in active] == ["数据接入"]
    assert dash_duo.get_logs() == []


def test_shell005_unknown_path_is_a_page_not_a_crash(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(live_app(), port=free_port)
    dash_duo.driver.get(dash_duo.server_url + "/no-such-scene")
    dash_duo.wait_for_text_to_equal(".scene-title", "页面不存在", timeout=10)
    assert dash_duo.driver.find_element(By.CSS_SELECTOR, ".brand-name").text == "山亭大脑"
