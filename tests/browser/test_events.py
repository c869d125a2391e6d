"""Events in the browser: an episode raises an event, an operator acknowledges and dispatches it, a department head
resolves it, and the statistics follow."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest
from selenium.webdriver.common.keys import Keys

from dashboard import simulation
from dashboard.app import create_app
from dashboard.events import EventBook
from dashboard.timeutil import now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from tests.browser.helpers import text, wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


def simulate_episode(store: SqlSource, now) -> str:  # type: ignore[no-untyped-def]
    """Three hours of heavy PM2.5 at one station (AQI ≈ 300), then the live loop's rules."""
    station = store.read("air_stations").frame.sort_values("station_id").iloc[0]
    rows = [
        {
            "station_id": station.station_id,
            "ts": now - timedelta(minutes=m),
            "pm25": 250.0,
            "pm10": 120.0,
            "averaging": "1h",
        }
        for m in (150, 90, 30)
    ]
    store.write("air_readings", pd.DataFrame(rows), now=now, origin="test")
    return str(station.station_id)


def type_into(dash_duo, css: str, value: str) -> None:  # type: ignore[no-untyped-def]
    box = dash_duo.find_element(css)
    if box.tag_name == "div":  # dcc.Input puts its className on a container around the <input>
        box = dash_duo.find_element(f"{css} input")
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(Keys.DELETE)
    box.send_keys(value)


def click_first(dash_duo, css: str) -> bool:  # type: ignore[no-untyped-def]
    dash_duo.find_elements(css)[0].click()
    return True


def state_shown(dash_duo, state: str) -> bool:  # type: ignore[no-untyped-def]
    return bool(dash_duo.find_elements(f".evt-body [data-state={state}]"))


def resolved_of(dash_duo, department: str) -> int:  # type: ignore[no-untyped-def]
    cells = dash_duo.find_elements(f'.evt-dept [data-department="{department}"] td')
    return int(cells[3].text) if cells else -1


def test_evt001_an_episode_is_acknowledged_dispatched_resolved_and_counted(  # type: ignore[no-untyped-def]
    dash_duo, live_db, make_settings, tmp_path, free_port
) -> None:
    db = tmp_path / "events.db"
    shutil.copy(live_db, db)
    settings = make_settings(store_url=f"sqlite:///{db}")
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
    now = now_utc()
    station = simulate_episode(store, now)
    simulation.rules(store, settings)(now)
    events = store.read("events").frame
    mine = events.loc[events["event_id"].str.startswith(f"aqi_over_150-{station}-")]
    assert len(mine) == 1, events[["event_id", "state"]]
    event_id = str(mine["event_id"].iloc[0])

    # console.error's arguments, kept readable (the driver's log shows only "Object" for Dash's errors).
    hook = (
        "window.__e=window.__e||[];const o=console.error;console.error=function(...a){"
        "window.__e.push(a.map(x=>{try{return (x&&x.message)||JSON.stringify(x)}catch(e){return String(x)}})"
        ".join(' '));o.apply(console,a)}"
    )
    dash_duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": hook})
    dash_duo.start_server(create_app(settings), port=free_port)
    # The event is in the ticker of every scene and in the list.
    wait_for(dash_duo, lambda: dash_duo.find_elements(f'#ticker a[href*="{event_id}"]'), "the event in the ticker")
    dash_duo.wait_for_page(f"{dash_duo.server_url}/events")
    wait_for(dash_duo, lambda: dash_duo.find_elements(f'[data-event="{event_id}"]'), "the event in the list")
    # The list fits the screen and scrolls inside its panel: a wall cannot scroll the page (a low window, so that
    # the day's events overflow it whatever their number).
    dash_duo.driver.set_window_size(1920, 640)
    sizes = "return [document.documentElement.scrollHeight, innerHeight, document.querySelectorAll('.evt-row').length]"
    page, screen, rows = dash_duo.driver.execute_script(sizes)
    assert page <= screen and rows > 8, f"the events page scrolls: {page} > {screen} ({rows} events)"
    dash_duo.driver.set_window_size(1920, 1080)
    before = wait_for(dash_duo, lambda: resolved_of(dash_duo, "生态环境分局") + 1, "the department statistics") - 1
    dash_duo.find_element(f'[data-event="{event_id}"] .evt-link').click()
    wait_for(dash_duo, lambda: state_shown(dash_duo, "new"), "the event page")
    assert dash_duo.find_elements(".evt-marker"), "the event's location on the map"
    assert "aqi_hourly > 150" in text(dash_duo, ".evt-condition")

    # The operator acknowledges and dispatches it.
    type_into(dash_duo, ".evt-who", "值班员张三")
    dash_duo.find_element(".act-acknowledge").click()
    wait_for(dash_duo, lambda: state_shown(dash_duo, "acknowledged"), "acknowledged")
    type_into(dash_duo, ".evt-person", "李四")
    dash_duo.find_element(".act-dispatch").click()
    wait_for(dash_duo, lambda: state_shown(dash_duo, "dispatched"), "dispatched")
    # An action the state does not allow says why.
    dash_duo.find_element(".act-close").click()
    wait_for(dash_duo, lambda: "cannot close" in text(dash_duo, ".evt-message"), "the refusal")

    # The department head works through it and resolves it.
    type_into(dash_duo, ".evt-who", "生态环境分局局长")
    dash_duo.find_element(".act-start").click()
    wait_for(dash_duo, lambda: state_shown(dash_duo, "in_progress"), "in progress")
    wait_for(dash_duo, lambda: click_first(dash_duo, ".evt-check"), "a step to tick")  # the body re-renders
    wait_for(dash_duo, lambda: dash_duo.find_elements(".evt-check.done"), "the first step ticked")
    type_into(dash_duo, ".evt-note", "已排查周边工地")
    dash_duo.find_element(".act-resolve").click()
    wait_for(dash_duo, lambda: state_shown(dash_duo, "resolved"), "resolved")
    wanted = ("值班员张三", "生态环境分局局长", "已排查周边工地")
    wait_for(dash_duo, lambda: all(w in text(dash_duo, "#evt-history") for w in wanted), "who did what, in the history")

    record = EventBook(store).record(event_id)
    assert record.state == "resolved" and record.department == "生态环境分局" and record.person == "李四"
    assert record.who["resolved"] == "生态环境分局局长"

    # The statistics count it.
    dash_duo.wait_for_page(f"{dash_duo.server_url}/events")
    wait_for(dash_duo, lambda: resolved_of(dash_duo, "生态环境分局") == before + 1, "the statistics updated")
    assert text(dash_duo, "[data-stat=resolve] .evt-figure-value") != "—"
    severe = [e["message"] for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    assert not severe, dash_duo.driver.execute_script("return window.__e")
    store.engine.dispose()
