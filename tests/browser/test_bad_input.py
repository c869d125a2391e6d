"""Hostile text from the feeds and from operators, in Chromium: shown as text, never executed (issue #12).

Names carrying <script>, <img onerror> and <svg onload> are legitimate strings to the contracts (see
``tests/corpus/bad_input.py``); the pages must show them literally and run none of them. A script that ran would
set ``window.__pwned`` or open an alert.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pandas as pd
import pytest
from selenium.common.exceptions import NoAlertPresentException

from dashboard.app import create_app
from dashboard.events import EventBook
from dashboard.timeutil import now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from tests.browser.helpers import wait_for
from tests.corpus.bad_input import IMG, SCRIPT, SVG

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

PAGE_TEXT = "return document.body.innerText"


def rename_first(store: SqlSource, feed: str, key: str, name: str) -> str:
    rows = store.read(feed).frame.sort_values(key)
    first = rows.iloc[[0]].copy()
    first["name"] = name
    assert store.write(feed, first, origin="test").report.ok
    return str(first[key].iloc[0])


def nothing_ran(dash_duo) -> None:  # type: ignore[no-untyped-def]
    assert dash_duo.driver.execute_script("return window.__pwned") is None
    try:
        alert = dash_duo.driver.switch_to.alert
    except NoAlertPresentException:
        return
    raise AssertionError(f"an alert opened: {alert.text!r}")


def test_bad001_hostile_names_and_notes_are_shown_as_text_and_never_run(  # type: ignore[no-untyped-def]
    dash_duo, live_db, make_settings, tmp_path, free_port
) -> None:
    db = tmp_path / "hostile.db"
    shutil.copy(live_db, db)
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
    rename_first(store, "scenic_spots", "spot_id", f"熊耳山{SCRIPT}")
    rename_first(store, "parking_lots", "lot_id", f"停车场{SVG}")
    now = now_utc()
    book = EventBook(store)
    event_id = "feed_stale-corpus-01"
    book.raise_event(
        {
            "event_id": event_id,
            "ts": now - timedelta(minutes=5),
            "domain": "environment",
            "rule_id": "feed_stale",
            "severity": 2,
            "lon": 117.45,
            "lat": 35.07,
            "town_code": "370406001",
            "state": "new",
            "title": f"标题{SCRIPT}",
        },
        now,
    )
    book.act(event_id, "note", IMG[:80], now, note=f"备注{IMG}")
    store.engine.dispose()
    assert pd.notna(event_id)

    dash_duo.start_server(create_app(make_settings(store_url=f"sqlite:///{db}")), port=free_port)
    dash_duo.driver.set_window_size(1920, 1080)
    for path, shown in (
        ("/tourism", f"熊耳山{SCRIPT}"),
        ("/transport", f"停车场{SVG}"),
        ("/events", f"标题{SCRIPT}"),
        (f"/events?event={event_id}", f"备注{IMG}"),
    ):
        dash_duo.driver.get(f"{dash_duo.server_url}{path}")
        wait_for(dash_duo, lambda s=shown: s in dash_duo.driver.execute_script(PAGE_TEXT), f"{shown!r} on {path}", 60)
        nothing_ran(dash_duo)
    severe = [e["message"] for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    assert not severe, severe
