"""Transport scene benchmark: server time of the scene's periodic refresh at ×1.

``.venv/bin/python -m tests.bench.bench_transport [--rounds 30] [--at ISO]`` from the project root.
A report, not a test: PASS/FAIL per target, then ``targets met: N/M``; always exits 0. The overview benchmark
runs the same figures at ×1 (:func:`scene_rows`) after its own.

A refresh of /transport is the scene's own callbacks as the page sends them on a tick of the refresh interval
(lines/vehicles/TPI/worst/parking, arrivals at a stop, accidents of the period with the accident layer URLs, the
chosen vehicle's trip); the KPI tiles and the shared map layer refresh are the overview benchmark's. Each request
is POSTed through the WSGI app in process (no network), so the figures are server time:

- cold: every cache cleared (the first screen after a start);
- next-tick: the refresh interval has passed over unchanged data (panels are kept under their feeds' versions, so
  this is the answer assembled again);
- live: the simulator wrote one tick (5 s of bus pings, and whatever else is due) before each refresh, as in
  operation: the bus panels follow the new pings, the others are kept until their feeds move; what each refresh
  costs the server once for all screens;
- warm: another screen in the same interval (everything memoised).

Each figure is one page's refreshes: its record of what its panels were filled from is carried from one answer
to its next request as the browser does, so a panel that did not change is not sent again; cold and warm are new
pages, which are sent every panel. The server process is settled as a server is once warm (``routes.settle``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from dash import Dash

from dashboard import routes, simulation
from dashboard.app import create_app
from dashboard.settings import load_settings
from dashboard.timeutil import TZ, now_utc
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.synthetic import SyntheticDistrict
from layouts import ids
from layouts import transport as trn_layout
from tests.bench.common import (
    LOCAL,
    UPDATE,
    Clock,
    Row,
    Targets,
    clear_cache,
    expire,
    expire_versions,
    report,
    utc,
)

#: The scopes measured, with the page's query for each.
SCOPES = (("district", ""), ("town", "?scope=town:370406001"), ("line", "?scope=asset:bus_lines:L01"))
TARGETS: Targets = {
    (f"transport {scope}: refresh {kind} ms", 1): ("p95", 150)
    for scope, _ in SCOPES
    for kind in ("next-tick", "live", "warm")
}


def _out(component: Any, prop: str) -> dict[str, Any]:
    return {"id": component, "property": prop}


def _key(outputs: list[dict[str, Any]]) -> str:
    parts = [f"{json.dumps(o['id'], separators=(',', ':'), sort_keys=True) if isinstance(o['id'], dict) else o['id']}"
             f".{o['property']}" for o in outputs]  # fmt: skip
    return parts[0] if len(parts) == 1 else ".." + "...".join(parts) + ".."


def calls(search: str, stop: str, vehicle: str) -> list[dict[str, Any]]:
    """The scene's periodic callback requests (bodies as the page sends them on a refresh tick)."""
    tick = {"id": ids.REFRESH, "property": "n_intervals", "value": 3}
    url = {"id": ids.URL, "property": "search", "value": search}
    shown = {"id": ids.TRN_SHOWN, "property": "children", "value": None}
    groups = [
        ([_out(c, p) for c, p in trn_layout.OUTPUTS] + [_out(ids.TRN_SHOWN, "children")], [tick, url], [shown]),
        (
            [_out(ids.TRN_STOP, "options"), _out(ids.TRN_STOP, "value"), _out(ids.TRN_ARRIVALS, "children")],
            [tick, url, {"id": ids.TRN_STOP, "property": "value", "value": stop}],
            [],
        ),
        (
            [_out(ids.TRN_ACCIDENTS, "children"), _out(ids.TRN_ACC_CHART, "figure")]
            + [_out(ids.trn_layer(n), "url") for n in trn_layout.PERIOD_LAYERS],
            [{"id": ids.TRN_PERIOD, "property": "value", "value": 7}, tick, url],
            [],
        ),
        (
            [_out(ids.TRN_TRIP_SUM, "children"), _out(ids.TRN_TRIP, "figure")],
            [tick, {"id": ids.URL, "property": "search", "value": f"{search}&vehicle={vehicle}".lstrip("&")}],
            [],
        ),
    ]
    return [
        {
            "output": _key(outputs),
            "outputs": outputs if len(outputs) > 1 else outputs[0],
            "inputs": inputs,
            "changedPropIds": ["refresh.n_intervals"],
            "state": state,
        }
        for outputs, inputs, state in groups
    ]


class Page:
    """One screen's transport page: its record of what its panels show, sent with its next refresh as the
    browser sends it (a new page has none, and is sent every panel)."""

    def __init__(self) -> None:
        self.shown: Any = None

    def body(self, body: dict[str, Any]) -> dict[str, Any]:
        state = [s | {"value": self.shown} if s["id"] == ids.TRN_SHOWN else s for s in body["state"]]
        return body | {"state": state}

    def keep(self, answer: dict[str, Any]) -> None:
        got = answer.get("response", {}).get(ids.TRN_SHOWN)
        if got is not None:
            self.shown = got["children"]


def replay(app: Dash, bodies: list[dict[str, Any]], page: Page) -> float:
    """ms of server time for one refresh of ``page`` (every call in turn)."""
    client = app.server.test_client()
    total = 0.0
    for body in bodies:
        sent = page.body(body)
        t0 = time.perf_counter()
        resp = client.post(UPDATE, json=sent)
        total += (time.perf_counter() - t0) * 1000
        if resp.status_code == 200:
            page.keep(resp.get_json())
        elif resp.status_code != 204:  # 204: nothing on the page to change
            raise RuntimeError(f"{body['output'][:60]}: HTTP {resp.status_code}")
    return total


def scene_rows(
    app: Dash, store: SqlSource, district: SyntheticDistrict, clock: Clock, refresh_s: float, rounds: int
) -> list[Row]:
    """The scene's refresh figures at each scope (cold, next-tick, live, warm), ``rounds`` refreshes each.

    The live figure writes one simulator tick into ``store`` before each refresh and moves ``clock`` on by
    ``refresh_s`` each time, as in operation.
    """
    rows: list[Row] = []
    for label, search in SCOPES:
        bodies = calls(search, "L01-S04", "L01-V002")
        cold, warm, later = [], [], []
        for _ in range(rounds):
            clear_cache(app)
            page = Page()
            cold.append(replay(app, bodies, page))
            warm.append(replay(app, bodies, Page()))
            expire(app, refresh_s)
            later.append(replay(app, bodies, page))
        live, page = [], Page()
        replay(app, bodies, page)
        for _ in range(rounds):  # the data moves: one simulator tick per refresh interval, as in operation
            clock.now += timedelta(seconds=refresh_s)
            simulation.tick(store, district, clock.now, backfill=timedelta(hours=1))
            expire(app, refresh_s)
            expire_versions(app)
            live.append(replay(app, bodies, page))
        rows += [
            Row(1, f"transport {label}: refresh {kind} ms", samples)
            for kind, samples in (("cold", cold), ("next-tick", later), ("live", live), ("warm", warm))
        ]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Transport refresh benchmark at ×1 (a report).")
    parser.add_argument("--rounds", type=int, default=30, help="replayed refreshes per figure (default 30)")
    parser.add_argument("--at", type=utc, help="the district's 'now' (default: the last 12:00 Asia/Shanghai)")
    args = parser.parse_args(argv)
    noon = now_utc().astimezone(TZ).replace(hour=12, minute=0, second=0, microsecond=0)
    end = args.at or (noon if noon <= now_utc() else noon - timedelta(days=1))
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-transport-") as tmp:
        db = Path(tmp) / "shanting.db"
        store = SqlSource("store", SqlOptions(url=f"sqlite:///{db}"))
        t0 = time.perf_counter()
        simulation.seed(store, SyntheticDistrict(), days=2, end=end, progress=False)
        print(f"×1: seeded 2 days to {end:%Y-%m-%d %H:%M %Z} in {time.perf_counter() - t0:.1f} s", flush=True)
        settings = load_settings(None, data_dir=tmp, store_url=f"sqlite:///{db}", auth=LOCAL)
        clock = Clock(end)
        app = create_app(settings, clock=clock)
        routes.settle()  # as a server process does once warm (routes.start_warming)
        rows = scene_rows(app, store, SyntheticDistrict(), clock, settings.refresh_s, args.rounds)
    report(rows, TARGETS)
    print(f"load average (1 min) at start {load:.2f}, at end {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
