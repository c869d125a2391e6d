"""The transport scene in headless Chromium at 1920×1080: layers, bus lines, a line drilled into, a vehicle's day,
the TPI curve, accidents by period, parking.

The app runs on the session's seeded store with "now" pinned to Sunday 12:00 (tests/conftest.py), so buses are in
service whatever the wall clock says (they run 06:00–21:00 local).
"""

from __future__ import annotations

import re

import pytest

from tests.browser.helpers import FAILING, count, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

LINE_ROWS = "#trn-lines tbody tr"
PCT = re.compile(r"\d{1,3}\.\d%")


def texts(dash_duo, css: str) -> list[str]:  # type: ignore[no-untyped-def]
    """The visible text of every match, read in one script call: the panels re-render every refresh, so
    reading element by element may hit one that was just replaced."""
    return list(
        dash_duo.driver.execute_script(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.innerText.trim())", css
        )
    )


def text(dash_duo, css: str) -> str:  # type: ignore[no-untyped-def]
    """The first match's visible text ('' when there is none yet)."""
    found = texts(dash_duo, css)
    return found[0] if found else ""


def click(dash_duo, css: str, n: int) -> str | None:  # type: ignore[no-untyped-def]
    """Click the n-th match and return its text, in one script call (None while there is no n-th match yet)."""
    return dash_duo.driver.execute_script(  # type: ignore[no-any-return]
        "const e = document.querySelectorAll(arguments[0])[arguments[1]];"
        "if (!e) return null; const t = e.innerText.trim(); e.click(); return t;",
        css,
        n,
    )


def open_scene(dash_duo, app, port: int, query: str = "") -> None:  # type: ignore[no-untyped-def]
    dash_duo.start_server(app, port=port)
    dash_duo.driver.set_window_size(1920, 1080)
    dash_duo.driver.get(f"{dash_duo.server_url}/transport{query}")
    wait_for(dash_duo, lambda: "…" not in text(dash_duo, "#trn-lines"), "lines table filled", timeout=60)


def test_trn001_scene_shows_layers_lines_tpi_curve_accidents_parking(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    assert wait_for(dash_duo, lambda: count(dash_duo, LINE_ROWS) == 21, "20 lines and the total", timeout=60)
    total = wait_for(dash_duo, lambda: texts(dash_duo, "#trn-lines tr.trn-total td"), "the total row")
    assert total[0] == "合计" and re.fullmatch(r"\d+/\d+", total[1]) and PCT.fullmatch(total[2])
    assert count(dash_duo, "#trn-vehicles tbody tr") >= 1
    # map: segments coloured by level, buses, bus lines, parking lots, and the layer list of the scene
    overlays = wait_for(dash_duo, lambda: texts(dash_duo, ".leaflet-control-layers-overlays label"), "layer list")
    assert overlays == ["镇街专题", "路况", "事故热力", "公交车辆", "公交线路", "停车场", "事故点位"]
    wait_for(dash_duo, lambda: count(dash_duo, "path.leaflet-interactive[stroke='#35c2ff']") >= 20, "bus lines")
    wait_for(dash_duo, lambda: count(dash_duo, ".parking-icon") == 25, "25 parking lots")
    wait_for(dash_duo, lambda: count(dash_duo, "path.leaflet-interactive[stroke='#e6eef8']") >= 50, "buses")
    wait_for(dash_duo, lambda: count(dash_duo, "path.leaflet-interactive[stroke-width='4']") >= 100, "segments")
    # TPI now, its level, and the 24 h curve against last week (two traces)
    value = wait_for(dash_duo, lambda: text(dash_duo, "#trn-tpi .trn-tpi-value"), "TPI value")
    assert re.fullmatch(r"\d{1,2}\.\d", value) and 0 <= float(value) <= 10
    assert text(dash_duo, "#trn-tpi .trn-tpi-level") in ("畅通", "基本畅通", "轻度拥堵", "中度拥堵", "严重拥堵")
    wait_for(dash_duo, lambda: count(dash_duo, "#trn-tpi-chart .scatterlayer .trace") == 2, "TPI curves")
    assert count(dash_duo, "#trn-worst tbody tr") == 10
    wait_for(dash_duo, lambda: "起" in text(dash_duo, "#trn-accidents .trn-acc-total"), "accident count")
    wait_for(dash_duo, lambda: count(dash_duo, "#trn-acc-chart .barlayer .trace") == 4, "weekly bars by severity")
    assert "空余车位" in text(dash_duo, "#trn-parking") and count(dash_duo, "#trn-parking tbody tr") == 25
    wait_for(dash_duo, lambda: "1路" in text(dash_duo, "#trn-arrivals .trn-stop-name"), "first stop chosen")
    wait_for(dash_duo, lambda: count(dash_duo, "#trn-arrivals tbody tr") >= 1, "arrival times")
    assert re.search(r"\d+ 分钟|即将到站", text(dash_duo, "#trn-arrivals"))
    wait_for(dash_duo, lambda: count(dash_duo, ".trn-tiles .kpi-inner") == 4, "4 transport tiles")
    assert FAILING not in text(dash_duo, ".trn")
    scroll = dash_duo.driver.execute_script("return [document.documentElement.scrollHeight, window.innerHeight]")
    assert scroll[0] <= scroll[1], f"the page scrolls at 1080p: {scroll}"
    assert dash_duo.get_logs() == []


def test_trn002_a_line_drilled_into_then_a_vehicles_trip(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    wait_for(dash_duo, lambda: count(dash_duo, LINE_ROWS) == 21, "20 lines and the total", timeout=60)
    name = wait_for(dash_duo, lambda: click(dash_duo, "#trn-lines tbody a", 0), "clicked a line")
    dash_duo.wait_for_contains_text("#breadcrumb", name, timeout=20)
    assert "scope=asset%3Abus_lines%3AL01" in dash_duo.driver.current_url
    assert wait_for(dash_duo, lambda: count(dash_duo, LINE_ROWS) == 2, "the total and the line")
    assert text(dash_duo, ".trn-vehicles .panel-title").startswith("本线路车辆")
    vehicles = wait_for(dash_duo, lambda: count(dash_duo, "#trn-vehicles tbody tr"), "the line's vehicles")
    assert vehicles == 6  # 1路 runs 6 vehicles, all in service at noon
    assert "点击车辆编号" in text(dash_duo, "#trn-trip-sum")
    vehicle = wait_for(dash_duo, lambda: click(dash_duo, "#trn-vehicles a.trn-veh", 1), "clicked a vehicle")
    wait_for(dash_duo, lambda: vehicle in text(dash_duo, "#trn-trip-sum"), "the vehicle's day", timeout=60)
    assert f"vehicle={vehicle}" in dash_duo.driver.current_url
    assert PCT.search(text(dash_duo, "#trn-trip-sum"))
    wait_for(dash_duo, lambda: count(dash_duo, "#trn-trip .scatterlayer .trace") == 1, "delay over time")
    points = dash_duo.driver.execute_script(
        "return document.getElementById('trn-trip').querySelector('.js-plotly-plot').data[0].x.length"
    )
    assert points > 60, points  # a minute apart since service began at 06:00
    assert text(dash_duo, "#trn-vehicles tr.current").startswith(vehicle)
    assert dash_duo.get_logs() == []


def test_trn003_the_accident_period_changes_the_panel_and_the_map(dash_duo, app_at_now, free_port) -> None:  # type: ignore[no-untyped-def]
    open_scene(dash_duo, app_at_now(), free_port)
    week = int(wait_for(dash_duo, lambda: text(dash_duo, "#trn-accidents .trn-acc-total b"), "7-day count", timeout=60))
    points = "return document.querySelectorAll('.leaflet-overlay-pane path[stroke=\"#0b1526\"]').length"
    wait_for(dash_duo, lambda: dash_duo.driver.execute_script(points) == week, "a point per accident")
    assert text(dash_duo, "#trn-accidents .trn-acc-period") == "7天"
    dash_duo.driver.execute_script("document.querySelector(\"#trn-period input[value='84']\").click()")
    # the store holds 3 days: the longer period counts the same accidents, and the trend keeps 12 weeks
    wait_for(dash_duo, lambda: text(dash_duo, "#trn-accidents .trn-acc-period") == "12周", "the period shown")
    wait_for(
        dash_duo,
        lambda: int(text(dash_duo, "#trn-accidents .trn-acc-total b")) >= week,
        "84-day count",
    )
    assert count(dash_duo, "#trn-acc-chart .barlayer .trace") == 4
    assert dash_duo.get_logs() == []
