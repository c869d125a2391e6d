"""The environment scene in headless Chromium at 1920×1080: air, trends, stations, water, reservoirs, radiation."""

from __future__ import annotations

import re
import time

import pytest

from tests.browser.helpers import FAILING, click_nth, count, text, texts, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

STATION_ROWS = "#env-stations tbody tr"


def open_scene(dash_duo, app, port: int, query: str = "") -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(app, port=port)
    dash_duo.driver.get(f"{dash_duo.server_url}/environment{query}")
    wait_for(dash_duo, lambda: "…" not in text(dash_duo, "#env-stations"), "station table filled")


def test_env001_scene_shows_air_trends_stations_water_reservoirs_radiation(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    assert wait_for(dash_duo, lambda: count(dash_duo, STATION_ROWS) == 11, "11 station rows")
    aqi = text(dash_duo, "#env-air-now .env-aqi-value")
    assert aqi.isdigit() and 0 < int(aqi) <= 500
    assert re.search(r"首要污染物 (PM2\.5|PM10|SO₂|NO₂|CO|O₃|无)", text(dash_duo, "#env-air-now"))
    wait_for(
        dash_duo, lambda: count(dash_duo, "#env-trend-24h .js-plotly-plot .scatterlayer .trace") == 12, "24 h lines"
    )
    wait_for(dash_duo, lambda: count(dash_duo, "#env-trend-30d .js-plotly-plot .barlayer") == 1, "30 day bars")
    assert count(dash_duo, "#env-ranking .env-rank-row") == 10
    assert count(dash_duo, "#env-stations .aqi-badge") >= 11
    badges = wait_for(dash_duo, lambda: texts(dash_duo, "#env-water .wq-badge"), "water badges")
    assert len(badges) == 8 and set(badges) <= {"Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ"}
    levels = wait_for(dash_duo, lambda: texts(dash_duo, "#env-reservoirs .env-res-level"), "reservoir levels")
    assert len(levels) == 2 and all(re.fullmatch(r"1\d\d\.\d\d m", v) for v in levels)
    assert "汛限 125.00" in text(dash_duo, "#env-reservoirs") and "正常蓄水位 114.56" in text(
        dash_duo, "#env-reservoirs"
    )
    doses = wait_for(dash_duo, lambda: texts(dash_duo, "#env-radiation .env-rad-dose b"), "radiation doses")
    assert len(doses) == 3 and all(re.fullmatch(r"\d+\.\d", d) for d in doses)
    assert "假设值" in text(dash_duo, "#env-radiation")
    assert FAILING not in text(dash_duo, ".env")
    assert dash_duo.find_element("#breadcrumb").text == "山亭区"
    scroll = dash_duo.driver.execute_script("return [document.documentElement.scrollHeight, window.innerHeight]")
    assert scroll[0] <= scroll[1], f"the page scrolls at 1080p: {scroll}"
    time.sleep(6)  # one live refresh (5 s) redraws every panel and the map layers without error
    assert count(dash_duo, STATION_ROWS) == 11
    assert dash_duo.get_logs() == []


def test_env002_a_drilled_station_shows_its_name_and_one_row(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port, "?scope=asset:air_stations:air-03")
    dash_duo.wait_for_contains_text("#breadcrumb", "西集镇站", timeout=15)
    crumbs = [c.strip() for c in dash_duo.find_element("#breadcrumb").text.split("›")]
    assert crumbs[0] == "山亭区" and crumbs[-1] == "西集镇站"
    assert wait_for(dash_duo, lambda: count(dash_duo, STATION_ROWS) == 1, "one station row")
    assert wait_for(dash_duo, lambda: text(dash_duo, STATION_ROWS).startswith("西集镇站"), "the station's row")
    assert text(dash_duo, "#env-air-now .env-aqi-value").isdigit()
    assert "本范围内无水质断面" in text(dash_duo, "#env-water")
    current = "#env-ranking .env-rank-row.current"
    assert wait_for(dash_duo, lambda: text(dash_duo, current).split()[1] == "西集镇", "its town marked")
    assert dash_duo.get_logs() == []


def test_env003_clicking_a_station_name_drills_to_it(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, live_app(), free_port)
    wait_for(dash_duo, lambda: count(dash_duo, STATION_ROWS) == 11, "11 station rows")
    name = wait_for(dash_duo, lambda: click_nth(dash_duo, "#env-stations tbody tr a", 5), "clicked a station")
    dash_duo.wait_for_contains_text("#breadcrumb", name, timeout=15)
    assert "scope=asset%3Aair_stations%3Aair-05" in dash_duo.driver.current_url
    assert wait_for(dash_duo, lambda: count(dash_duo, STATION_ROWS) == 1, "one station row")
    assert dash_duo.get_logs() == []


def test_env004_a_failing_air_source_fails_only_the_air_panels(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    app = live_app(
        sources={"env": {"kind": "sql", "url": "postgresql+psycopg://nobody@127.0.0.1:1/none"}},
        feeds={"air_readings": "env"},
    )
    dash_duo.start_server(app, port=free_port)
    dash_duo.driver.get(f"{dash_duo.server_url}/environment")
    dash_duo.wait_for_text_to_equal("#env-stations", FAILING, timeout=20)
    for panel in ("#env-air-now", "#env-ranking", "#env-episodes"):
        assert text(dash_duo, panel) == FAILING
    wait_for(dash_duo, lambda: FAILING in text(dash_duo, "#env-trend-24h"), "failing chart")
    assert FAILING not in text(dash_duo, "#env-water") and count(dash_duo, "#env-water .wq-badge") == 8
    assert count(dash_duo, "#env-radiation .env-rad-dose") == 3
