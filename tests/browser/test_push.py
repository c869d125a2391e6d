"""Push: a change in the store reaches an open screen within seconds, long before its periodic refresh."""

from __future__ import annotations

import shutil
import time

import pytest

from dashboard.app import create_app
from datasources.kinds.sql import SqlOptions, SqlSource
from tests.browser.helpers import wait_for

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


def working_rate(dash_duo) -> str:  # type: ignore[no-untyped-def]
    text = dash_duo.find_element("[data-kpi=working_rate] .kpi-value").text
    return text if "…" not in text else ""


def test_psh001_a_store_change_reaches_the_screen_without_waiting_for_the_refresh(  # type: ignore[no-untyped-def]
    dash_duo, live_db, make_settings, tmp_path, free_port
) -> None:
    db = tmp_path / "push.db"
    shutil.copy(live_db, db)
    # A periodic refresh of 10 minutes: only a push can update the tile during the test.
    app = create_app(make_settings(store_url=f"sqlite:///{db}", refresh_s=600))
    dash_duo.start_server(app, port=free_port)
    before = wait_for(dash_duo, lambda: working_rate(dash_duo), "the working-rate tile")
    time.sleep(2)  # the page has seen the current version

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
    cams = store.read("cameras").frame
    online = cams.loc[cams["status"] == "online"].head(len(cams) // 4)
    store.write("cameras", online.assign(status="offline"), origin="test")
    written = time.monotonic()
    after = wait_for(dash_duo, lambda: (v := working_rate(dash_duo)) != before and v, "the pushed change", timeout=15)
    took = time.monotonic() - written
    assert float(after.rstrip("%")) < float(before.rstrip("%"))
    assert took < 10, f"the change took {took:.1f} s to reach the screen"
    assert not [e for e in dash_duo.get_logs() if e["level"] == "SEVERE"]
    store.engine.dispose()
