"""Big screens and the operator console in headless Chromium: a full viewport with nothing to scroll, a screen
that follows the console within 2 s, a rotation that advances, an alarm that takes a screen over and is released
when acknowledged, and a screen that keeps its data, marked stale, while the server is unreachable."""

from __future__ import annotations

import re
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By

from dashboard.app import create_app
from dashboard.events import EventBook
from dashboard.timeutil import now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from tests.browser.helpers import choose, poll, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

#: No scrollbar, in either direction, at any of the walls the product is made for.
VIEWPORTS = ((1920, 1080), (3840, 2160), (3840, 1080))
HOOK = (
    "window.__e=window.__e||[];const o=console.error;console.error=function(...a){"
    "window.__e.push(a.map(x=>{try{return (x&&x.message)||JSON.stringify(x)}catch(e){return String(x)}})"
    ".join(' '));o.apply(console,a)}"
)


#: A command through the HTTP API, from the page (arguments: screen id, body).
COMMAND = (
    "fetch(`/api/v1/screens/${arguments[0]}/command`, {method: 'POST',"
    " headers: {'Content-Type': 'application/json'}, body: JSON.stringify(arguments[1])})"
)


def screens(alarm_severity: int | None = None, **playlists: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        sid: {"name": f"屏{n}", "playlist": items, "alarm_severity": alarm_severity}
        for n, (sid, items) in enumerate(playlists.items(), start=1)
    }


@pytest.fixture
def store_copy(live_db: Path, tmp_path: Path) -> Path:
    """A private copy of the live store with no event waiting for acknowledgement (this test raises its own)."""
    db = tmp_path / "screens.db"
    shutil.copy(live_db, db)
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
    book = EventBook(store)
    now = now_utc()
    waiting = book.events(now)
    for event_id in waiting.loc[waiting["state"].eq("new"), "event_id"]:
        book.act(event_id, "acknowledge", "test setup", now)
    store.engine.dispose()
    return db


@pytest.fixture
def operator() -> Any:
    """A second browser for the operator's console: the screen keeps its own, visible, window (a background
    tab of one browser is hidden, and a hidden page does not render)."""
    from selenium import webdriver

    from tests.conftest import pytest_setup_options

    driver = webdriver.Chrome(options=pytest_setup_options())
    yield driver
    driver.quit()


def start(dash_duo, settings, free_port: int, path: str) -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
    dash_duo.start_server(create_app(settings), port=free_port)
    dash_duo.driver.get(f"{dash_duo.server_url}{path}")


def query(dash_duo) -> str:  # type: ignore[no-untyped-def]
    return str(dash_duo.driver.current_url).partition("?")[2]


def severe(dash_duo) -> list[str]:  # type: ignore[no-untyped-def]
    logged = [e["message"] for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    return (dash_duo.driver.execute_script("return window.__e") or logged)[:5] if logged else []


def viewport(dash_duo, width: int, height: int) -> None:  # type: ignore[no-untyped-def]
    dash_duo.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def overflow(dash_duo) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    script = (
        "const d=document.documentElement, s=getComputedStyle(document.querySelector('.screen'));"
        "return {w: d.scrollWidth - innerWidth, h: d.scrollHeight - innerHeight,"
        " font: parseFloat(getComputedStyle(d).fontSize), cursor: s.cursor};"
    )
    return dash_duo.driver.execute_script(script)  # type: ignore[no-any-return]


def test_scr001_a_screen_fills_every_wall_without_scrollbars_and_shows_clock_and_health(  # type: ignore[no-untyped-def]
    dash_duo, live_app, free_port
) -> None:
    app = live_app(screens=screens(lobby=[{"scene": "overview", "dwell_s": 600}]))
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK})
    dash_duo.start_server(app, port=free_port)
    dash_duo.driver.get(f"{dash_duo.server_url}/screen/lobby")
    wait_for(dash_duo, lambda: "scene=overview" in query(dash_duo), "the redirect to what the screen shows")
    dash_duo.wait_for_element("#health-strip .chip", timeout=20)
    dash_duo.wait_for_element(".screen-stage[data-scene=overview] .overview", timeout=20)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", dash_duo.find_element("#clock").text)
    assert not dash_duo.find_elements(".scene-nav"), "a screen has no navigation"
    wait_for(dash_duo, lambda: dash_duo.find_element(".screen-now").text == "总览 · 山亭区", "what the screen shows")
    assert dash_duo.find_element(".screen-mode").text == "轮播 1/1"
    dash_duo.wait_for_element(".screen-stage .leaflet-container", timeout=20)
    shown = "return [...document.querySelectorAll(arguments[0])].filter(e => e.offsetParent !== null).length"
    assert dash_duo.driver.execute_script(shown, ".leaflet-control-zoom, .leaflet-control-layers") == 0
    assert dash_duo.driver.execute_script(shown, ".map-legend") > 0, "the legend stays"
    fonts = {}
    for width, height in VIEWPORTS:
        viewport(dash_duo, width, height)
        time.sleep(0.5)
        got = overflow(dash_duo)
        assert (got["w"], got["h"]) == (0, 0), f"{width}×{height} scrolls: {got}"
        assert got["cursor"] == "none"
        fonts[(width, height)] = got["font"]
    # The type grows with the wall: twice the size at 4K, and bounded by the height on a 32:9 wall.
    assert fonts[(1920, 1080)] == pytest.approx(16, abs=0.1)
    assert fonts[(3840, 2160)] == pytest.approx(32, abs=0.1)
    assert fonts[(3840, 1080)] == pytest.approx(16, abs=0.1)
    assert not severe(dash_duo)


def test_scr002_the_console_switches_a_screen_and_the_screen_follows(  # type: ignore[no-untyped-def]
    dash_duo, store_copy, make_settings, free_port, operator
) -> None:
    settings = make_settings(
        store_url=f"sqlite:///{store_copy}",
        screens=screens(lobby=[{"scene": "overview", "dwell_s": 600}], wall=[{"scene": "video", "dwell_s": 600}]),
    )
    start(dash_duo, settings, free_port, "/screen/lobby")
    wait_for(dash_duo, lambda: "scene=overview" in query(dash_duo), "the screen's rotation")

    operator.get(f"{dash_duo.server_url}/console")
    card = '[data-screen="lobby"]'

    def css(selector: str) -> Any:
        return operator.find_element(By.CSS_SELECTOR, selector)

    poll(lambda: css(f"{card} [data-online]").get_attribute("data-online") == "yes", "the screen online")
    poll(lambda: "总览 · 山亭区" in css(f"{card} .console-showing").text, "what the screen shows")
    assert css('[data-screen="wall"] [data-online]').get_attribute("data-online") == "no"

    choose(operator, f"{card} .console-controls .console-select:nth-of-type(1)", "文旅客流")
    css(f"{card} .cmd-show").click()
    wait_for(dash_duo, lambda: "scene=tourism" in query(dash_duo), "the screen following", timeout=10)
    # How fast it follows (the 2 s) is a median over many switches: tests/bench/bench_follow.py.
    assert css(".console-msg").text == "已执行"
    dash_duo.wait_for_element(".screen-stage[data-scene=tourism]", timeout=10)
    wait_for(dash_duo, lambda: dash_duo.find_element(".screen-mode").text == "固定", "the pinned mode shown")

    # The console sees the screen's heartbeat with the new scene; "run" gives the screen its playlist back.
    poll(lambda: "文旅客流" in css(f"{card} .console-showing").text, "the heartbeat")
    css(f"{card} .cmd-run").click()
    wait_for(dash_duo, lambda: "scene=overview" in query(dash_duo), "the playlist again", timeout=10)
    wait_for(dash_duo, lambda: dash_duo.find_element(".screen-mode").text == "轮播 1/1", "the rotating mode shown")
    assert not severe(dash_duo)


def test_scr003_a_rotation_advances_and_pauses(dash_duo, store_copy, make_settings, free_port) -> None:  # type: ignore[no-untyped-def]
    playlist = [{"scene": "overview", "dwell_s": 3}, {"scene": "environment", "dwell_s": 3}]
    settings = make_settings(store_url=f"sqlite:///{store_copy}", screens=screens(lobby=playlist))
    start(dash_duo, settings, free_port, "/screen/lobby")
    seen = set()
    deadline = time.monotonic() + 15
    while len(seen) < 2 and time.monotonic() < deadline:
        seen.add(re.search(r"scene=(\w+)", query(dash_duo)).group(1))  # type: ignore[union-attr]
        time.sleep(0.3)
    assert seen == {"overview", "environment"}, f"the rotation showed only {seen}"
    dash_duo.wait_for_element(".screen-stage[data-scene]", timeout=10)

    dash_duo.driver.execute_script(COMMAND, "lobby", {"command": "pause"})
    wait_for(dash_duo, lambda: dash_duo.find_element(".screen-mode").text.startswith("轮播暂停"), "paused")
    held = query(dash_duo)
    time.sleep(7)  # more than a whole cycle
    assert query(dash_duo) == held
    assert not severe(dash_duo)


def test_scr004_a_severe_event_takes_the_screen_over_until_acknowledged(  # type: ignore[no-untyped-def]
    dash_duo, store_copy, make_settings, free_port, operator
) -> None:
    settings = make_settings(
        store_url=f"sqlite:///{store_copy}",
        screens={
            **screens(4, lobby=[{"scene": "overview", "dwell_s": 600}]),
            **{"side": {"name": "侧屏", "playlist": [{"scene": "video", "dwell_s": 600}], "alarm_severity": None}},
        },
    )
    start(dash_duo, settings, free_port, "/screen/lobby")
    wait_for(dash_duo, lambda: "scene=overview" in query(dash_duo), "the rotation")

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{store_copy}"))
    now = now_utc()
    EventBook(store).raise_event(
        {
            "event_id": "evt-scr004",
            "ts": now - timedelta(minutes=2),
            "domain": "tourism",
            "rule_id": "tourism_crowding",
            "severity": 4,
            "lon": None,
            "lat": None,
            "town_code": "370406104",
            "state": "new",
            "title": "<b>景区</b>客流超过最大承载量",
        },
        now,
    )
    wait_for(dash_duo, lambda: "alarm=evt-scr004" in query(dash_duo), "the takeover", timeout=15)
    assert "scene=tourism" in query(dash_duo) and "scope=town%3A370406104" in query(dash_duo)
    banner = dash_duo.wait_for_element(".alarm-banner[data-event=evt-scr004]", timeout=10)
    assert "<b>景区</b>客流超过最大承载量" in banner.text  # an event title is text, never markup
    assert dash_duo.find_element(".screen-mode").text == "告警接管"

    # The operator acknowledges it on the console; the screen goes back to its rotation.
    operator.get(f"{dash_duo.server_url}/console")
    held = '[data-event="evt-scr004"]'
    button = poll(lambda: operator.find_element(By.CSS_SELECTOR, f"{held} button"), "the alarm on the console")
    assert "屏1" in operator.find_element(By.CSS_SELECTOR, f"{held} .console-held").text
    assert "侧屏" not in operator.find_element(By.CSS_SELECTOR, f"{held} .console-held").text
    button.click()
    poll(lambda: operator.find_element(By.CSS_SELECTOR, ".console-msg").text == "已执行", "acknowledged")
    wait_for(dash_duo, lambda: "alarm" not in query(dash_duo) and "scene=overview" in query(dash_duo), "released", 6)
    dash_duo.wait_for_element(".screen-stage[data-scene=overview]", timeout=10)
    assert not dash_duo.find_elements(".alarm-banner")
    assert EventBook(store).row("evt-scr004")["state"] == "acknowledged"
    store.engine.dispose()
    assert not severe(dash_duo)


def test_scr005_offline_keeps_the_last_data_marked_stale_and_reconnects(  # type: ignore[no-untyped-def]
    dash_duo, store_copy, make_settings, free_port
) -> None:
    settings = make_settings(
        store_url=f"sqlite:///{store_copy}", screens=screens(lobby=[{"scene": "overview", "dwell_s": 600}])
    )
    start(dash_duo, settings, free_port, "/screen/lobby")
    dash_duo.wait_for_element("[data-kpi=working_rate] .kpi-value", timeout=20)
    wait_for(dash_duo, lambda: "…" not in dash_duo.find_element("[data-kpi=working_rate] .kpi-value").text, "a value")
    # One answered poll first (it names what the screen shows): the offline banner then says since when.
    wait_for(dash_duo, lambda: dash_duo.find_element(".screen-now").text, "a first answered poll")
    driver = dash_duo.driver
    driver.execute_cdp_cmd("Network.enable", {})
    off = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", off)
    wait_for(dash_duo, lambda: "offline" in dash_duo.find_element(".screen").get_attribute("class"), "marked", 15)
    link = dash_duo.find_element(".screen-link")
    assert link.is_displayed() and "连接中断" in link.text
    assert re.search(r"\d{2}:\d{2}:\d{2}", dash_duo.find_element(".screen-link-time").text)
    assert "…" not in dash_duo.find_element("[data-kpi=working_rate] .kpi-value").text  # the last data stays

    driver.execute_cdp_cmd("Network.emulateNetworkConditions", {**off, "offline": False})
    wait_for(dash_duo, lambda: "offline" not in dash_duo.find_element(".screen").get_attribute("class"), "back", 15)
    assert not dash_duo.find_element(".screen-link").is_displayed()


def test_scr006_an_unknown_screen_says_which_screens_exist(dash_duo, live_app, free_port) -> None:  # type: ignore[no-untyped-def]
    app = live_app(screens=screens(lobby=[{"scene": "overview", "dwell_s": 60}]))
    dash_duo.start_server(app, port=free_port)
    dash_duo.driver.get(f"{dash_duo.server_url}/screen/lobbby")
    dash_duo.wait_for_contains_text(".screen-problem", "大屏不存在", timeout=10)
    assert "unknown screen 'lobbby'; known screens: lobby" in dash_duo.find_element(".screen-problem").text


def test_scr007_the_console_shown_again_lists_its_alarms_again(dash_duo, store_copy, make_settings, free_port) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings(store_url=f"sqlite:///{store_copy}", screens=screens(lobby=[{"scene": "overview"}]))
    start(dash_duo, settings, free_port, "/console")
    none = "当前没有接管大屏的告警"
    wait_for(dash_duo, lambda: none in dash_duo.find_element(".console-alarms").text, "the alarm list", timeout=30)

    def go(path: str) -> None:  # as a link in the page does: no reload, the page rendered anew
        dash_duo.driver.execute_script(
            "window.history.pushState({}, '', arguments[0]);"
            "window.dispatchEvent(new CustomEvent('_dashprivate_pushstate'));",
            path,
        )

    go("/data")
    wait_for(dash_duo, lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".console-alarms"), "left")
    go("/console")
    wait_for(dash_duo, lambda: none in dash_duo.find_element(".console-alarms").text, "listed again", timeout=10)
    go("/console?lang=zh")  # rendered anew in place: the same components, props from the new layout
    time.sleep(2)  # let the new rendering land (on a slower one this check passes early: never a false failure)
    wait_for(dash_duo, lambda: none in dash_duo.find_element(".console-alarms").text, "listed in place", timeout=10)
    assert not severe(dash_duo)
