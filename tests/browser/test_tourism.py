"""The tourism scene in headless Chromium at 1920×1080: loads, warning with diversion, forecast, holiday mode.

The clock is pinned to 2026-10-03 13:00 (National Day Golden Week) and the tourism feeds come straight from the
synthetic district, whose Golden Week peak takes 熊耳山–抱犊崮 above 80 % of its (assumed) capacity: a real warning,
not a planted one.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import pytest

from tests.browser.helpers import FAILING, count, text, texts, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

GOLDEN = datetime(2026, 10, 3, 5, 0, tzinfo=UTC)  # 13:00 Asia/Shanghai, day 3 of the National Day break
MORNING = datetime(2026, 10, 3, 1, 30, tzinfo=UTC)  # 09:30: nobody above 80 % yet
AREA_ROWS = "#tour-areas tbody tr"


@pytest.fixture
def golden_app(make_settings):  # type: ignore[no-untyped-def]
    """An app whose every feed but events is the synthetic district, at a pinned instant."""
    from dashboard.app import create_app
    from datasources.contracts import FEEDS

    def make(at: datetime = GOLDEN, **overrides: object):  # type: ignore[no-untyped-def]
        settings = make_settings(
            sources={"sim": {"kind": "synthetic"}}, feeds={f: "sim" for f in FEEDS if f != "events"}, **overrides
        )
        return create_app(settings, clock=lambda: at)

    return make


def open_scene(dash_duo, app, port: int, query: str = "") -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(app, port=port)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.driver.get(f"{dash_duo.server_url}/tourism{query}")
    wait_for(dash_duo, lambda: "…" not in text(dash_duo, "#tour-areas"), "area table filled", timeout=40)


def test_tour001_golden_week_warning_diversion_and_forecast(dash_duo, golden_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, golden_app(), free_port)
    assert wait_for(dash_duo, lambda: count(dash_duo, AREA_ROWS) == 7, "7 area rows")
    first = text(dash_duo, f"{AREA_ROWS}:first-child")
    assert "熊耳山" in first and "预警" in first and "拥挤" in first
    assert re.search(r"\d{2}%", first)
    warning = text(dash_duo, "#tour-warnings")
    assert "熊耳山–抱犊崮国家地质公园" in warning and "建议分流至" in warning and "可接纳" in warning
    assert "80% 预警" in text(dash_duo, ".tour-warnings .panel-title")
    assert "黄金周" in text(dash_duo, "#tour-day")
    # The forecast of the most loaded area, with its band and the back-tested MAPE beside the baseline.
    note = wait_for(
        dash_duo,
        lambda: "MAPE" in text(dash_duo, "#tour-forecast-note") and text(dash_duo, "#tour-forecast-note"),
        "forecast note",
    )
    mape, naive = (float(x) for x in re.findall(r"(\d+\.\d)%", note)[:2])
    assert 0 < mape < naive
    wait_for(
        dash_duo, lambda: count(dash_duo, "#tour-forecast .scatterlayer .trace") == 5, "band, today, forecast, 2 lines"
    )
    assert "熊耳山" in text(dash_duo, "#tour-spot")
    crossings = texts(dash_duo, "#tour-crossings .tour-cross-time")
    assert len(crossings) == 7 and crossings[0] == "已达到"
    assert "承载量与分级为假设配置" in text(dash_duo, ".tour-areas .panel-title")
    assert count(dash_duo, ".kpi-tourism") == 3
    wait_for(dash_duo, lambda: "…" not in text(dash_duo, ".domain-tourism"), "tiles filled")
    assert FAILING not in text(dash_duo, ".tour")
    assert count(dash_duo, ".tour-nearby.is-hidden") == 1
    scroll = dash_duo.driver.execute_script("return [document.documentElement.scrollHeight, window.innerHeight]")
    assert scroll[0] <= scroll[1], f"the page scrolls at 1080p: {scroll}"
    time.sleep(6)  # one live refresh (5 s) redraws the panels, the chart and the map layers without error
    assert count(dash_duo, AREA_ROWS) == 7 and "MAPE" in text(dash_duo, "#tour-forecast-note")
    assert dash_duo.get_logs() == []


def test_tour002_morning_forecast_crossing_time(dash_duo, golden_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, golden_app(MORNING), free_port)
    assert "当前无景区预警" in wait_for(dash_duo, lambda: text(dash_duo, "#tour-warnings"), "warnings")
    times = wait_for(dash_duo, lambda: texts(dash_duo, "#tour-crossings .tour-cross-time"), "crossings")
    assert re.fullmatch(r"1[0-2]:\d\d", times[0]), times  # 熊耳山 is expected to reach 80 % before noon
    assert dash_duo.get_logs() == []


def test_tour003_holiday_mode_and_an_area_scope(dash_duo, golden_app, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, golden_app(), free_port, "?mode=holiday")
    near = wait_for(
        dash_duo,
        lambda: "…" not in text(dash_duo, "#tour-nearby") and text(dash_duo, "#tour-nearby"),
        "nearby",
        timeout=40,
    )
    assert "南门" in near and "游客中心停车场" in near
    assert count(dash_duo, ".tour-nearby.is-hidden") == 0
    assert "停车场" in text(dash_duo, "#tour-areas thead")
    link = dash_duo.find_element(".tour-mode")
    assert link.text == "常规模式" and link.get_attribute("href").endswith("/tourism")
    dash_duo.driver.get(f"{dash_duo.server_url}/tourism?scope=asset:scenic_spots:spot-07&mode=holiday")
    dash_duo.wait_for_contains_text("#breadcrumb", "汉诺庄园", timeout=40)
    assert wait_for(dash_duo, lambda: count(dash_duo, AREA_ROWS) == 1, "one area row", timeout=40)
    dash_duo.driver.get(f"{dash_duo.server_url}/tourism?scope=village:370406001001")
    dash_duo.wait_for_contains_text("#tour-areas", "本范围内没有景区", timeout=40)
    assert dash_duo.get_logs() == []
