"""The video scene in headless Chromium at 1920×1080: rates, offline list, coverage, the placement advisor."""

from __future__ import annotations

import re

import pytest
from selenium.webdriver.common.keys import Keys

from tests.browser.helpers import FAILING, click_nth, count, text, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

AREA_ROWS = "#vid-areas tbody tr"
ADVISOR_ROWS = "#vid-advisor tbody tr"
PCT = re.compile(r"\d{1,3}\.\d%")


def read_all(dash_duo, css: str) -> list[str]:  # type: ignore[no-untyped-def]
    """Every match's text in one round trip: a live refresh cannot replace elements halfway through the read."""
    script = "return Array.from(document.querySelectorAll(arguments[0])).map((e) => e.innerText.trim())"
    return list(dash_duo.driver.execute_script(script, css))


def open_scene(dash_duo, app, port: int, query: str = "") -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(app, port=port)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.driver.get(f"{dash_duo.server_url}/video{query}")
    wait_for(dash_duo, lambda: "…" not in text(dash_duo, "#vid-areas"), "area table filled")


def test_vid001_scene_shows_rates_offline_coverage_and_advisor(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    assert wait_for(dash_duo, lambda: count(dash_duo, AREA_ROWS) == 10, "10 town rows")
    rates = wait_for(dash_duo, lambda: read_all(dash_duo, "#vid-health .vid-rate-value"), "rates")
    assert len(rates) == 3 and all(PCT.fullmatch(r) for r in rates)
    assert "目标 98%" in text(dash_duo, "#vid-health") and "雪亮工程" in text(dash_duo, "#vid-health")
    offline = wait_for(dash_duo, lambda: text(dash_duo, "#vid-offline").replace("…", ""), "offline list")
    assert "全部在线" in offline or count(dash_duo, "#vid-offline tbody tr") >= 1
    downs = wait_for(dash_duo, lambda: read_all(dash_duo, "#vid-offline td.num") or ["-"], "durations")
    assert downs == ["-"] or all(re.fullmatch(r"\d+(分钟|小时|天)", d) for d in downs)
    wait_for(dash_duo, lambda: PCT.search(text(dash_duo, "#vid-coverage .vid-rate-value")), "coverage rate")
    assert count(dash_duo, "#vid-coverage tbody tr") == 10
    assert wait_for(dash_duo, lambda: count(dash_duo, ADVISOR_ROWS) == 10, "10 advised sites")
    gains = [int(g) for g in wait_for(dash_duo, lambda: read_all(dash_duo, "#vid-advisor .vid-gain"), "gains")]
    assert gains == sorted(gains, reverse=True) and gains[-1] >= 1
    assert (
        dash_duo.find_element("#vid-export")
        .get_attribute("href")
        .endswith("/export/camera-sites.csv?scope=district&n=10")
    )
    assert FAILING not in text(dash_duo, ".vid")
    assert count(dash_duo, ".leaflet-container") == 1
    scroll = dash_duo.driver.execute_script("return [document.documentElement.scrollHeight, window.innerHeight]")
    assert scroll[0] <= scroll[1], f"the page scrolls at 1080p: {scroll}"
    assert dash_duo.get_logs() == []


def test_vid002_changing_n_updates_the_advisor(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    wait_for(dash_duo, lambda: count(dash_duo, ADVISOR_ROWS) == 10, "10 advised sites")
    box = dash_duo.find_element("#vid-n")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("3", Keys.ENTER)
    assert wait_for(dash_duo, lambda: count(dash_duo, ADVISOR_ROWS) == 3, "3 advised sites")
    assert "3 个点位" in text(dash_duo, "#vid-advisor")
    assert wait_for(
        dash_duo, lambda: dash_duo.find_element("#vid-export").get_attribute("href").endswith("n=3"), "href"
    )
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("0", Keys.ENTER)
    dash_duo.wait_for_contains_text("#vid-advisor", "1–200", timeout=10)
    assert dash_duo.get_logs() == []


def test_vid003_a_town_lists_its_villages(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port, "?scope=town:370406001")
    dash_duo.wait_for_contains_text("#breadcrumb", "山城街道", timeout=15)
    assert wait_for(dash_duo, lambda: text(dash_duo, "#vid-areas th").strip() == "村居", "village table")
    assert count(dash_duo, AREA_ROWS) > 10
    name = wait_for(dash_duo, lambda: click_nth(dash_duo, "#vid-areas tbody a", 0), "clicked a village")
    dash_duo.wait_for_contains_text("#breadcrumb", name, timeout=15)
    assert "scope=village%3A370406001" in dash_duo.driver.current_url
    assert wait_for(dash_duo, lambda: count(dash_duo, AREA_ROWS) == 1, "one village row")
    assert dash_duo.get_logs() == []


def test_vid004_a_failing_key_places_feed_fails_only_coverage(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    app = live_app(
        sources={"places": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"key_places": "places"},
    )
    dash_duo.start_server(app, port=free_port)
    dash_duo.driver.get(f"{dash_duo.server_url}/video")
    dash_duo.wait_for_text_to_equal("#vid-coverage", FAILING, timeout=20)
    assert text(dash_duo, "#vid-uncovered") == FAILING
    wait_for(dash_duo, lambda: text(dash_duo, "#vid-advisor") == FAILING, "failing advisor")
    assert FAILING not in text(dash_duo, "#vid-health") and count(dash_duo, AREA_ROWS) == 10


def test_vid005_blind_spot_layer_is_drawn_and_switchable(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    # Blind cells are SVG paths with their own class; uncovered places are diamond markers.
    assert wait_for(dash_duo, lambda: count(dash_duo, "path.blind-cell") >= 10, "blind cells drawn", timeout=45)
    assert wait_for(dash_duo, lambda: count(dash_duo, ".blind-place") >= 1, "uncovered places drawn")
    assert "盲区" in text(dash_duo, ".map-legend") and "建议点位" in text(dash_duo, ".map-legend")
    switch = wait_for(
        dash_duo,
        lambda: [
            label
            for label in dash_duo.find_elements(".leaflet-control-layers-overlays label")
            if "监控盲区" in label.text
        ],
        "blind-spot switch",
    )[0]
    assert switch.find_element("css selector", "input").is_selected()
    switch.click()
    assert wait_for(dash_duo, lambda: count(dash_duo, "path.blind-cell") == 0, "blind cells hidden")
    assert dash_duo.get_logs() == []


def test_vid006_an_advisor_run_draws_numbered_sites(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    wait_for(dash_duo, lambda: count(dash_duo, ADVISOR_ROWS) == 10, "10 advised sites", timeout=45)
    assert wait_for(dash_duo, lambda: count(dash_duo, ".site-icon") == 10, "10 sites on the map", timeout=45)
    numbers = wait_for(dash_duo, lambda: read_all(dash_duo, ".site-icon div"), "site numbers")
    assert sorted(int(n) for n in numbers) == list(range(1, 11))
    box = dash_duo.find_element("#vid-n")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("3", Keys.ENTER)
    wait_for(dash_duo, lambda: count(dash_duo, ADVISOR_ROWS) == 3, "3 advised sites", timeout=45)
    assert wait_for(dash_duo, lambda: count(dash_duo, ".site-icon") == 3, "3 sites on the map", timeout=45)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("0", Keys.ENTER)
    assert wait_for(dash_duo, lambda: count(dash_duo, ".site-icon") == 0, "no sites for a bad N", timeout=45)
    assert dash_duo.get_logs() == []


def test_vid007_daily_trend_against_the_targets(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    chart = "#vid-trend-chart"
    assert wait_for(
        dash_duo, lambda: count(dash_duo, f"{chart} .scatterlayer .trace") == 2, "two rate lines", timeout=45
    )
    assert count(dash_duo, f"{chart} .shapelayer path") == 2  # the 98 % and 100 % targets
    legend = wait_for(dash_duo, lambda: text(dash_duo, f"{chart} .legend"), "chart legend")
    assert "完好率" in legend and "联网率" in legend
    assert "目标 98% / 100%" in text(dash_duo, ".vid-trend")
    assert dash_duo.get_logs() == []
