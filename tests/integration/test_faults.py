"""Faults against the real services (issue #12): the store's database goes away mid-run and comes back.

The app runs over the seeded PostgreSQL through a loopback proxy the test cuts and restores, so the database other
tests share keeps running. While it is away the tiles keep their last values, marked 数据源异常, and /healthz says
the store is unreachable (503); when it returns everything recovers by itself, with no restart.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.engine import make_url

from dashboard.app import create_app
from tests.conftest import NOW
from tests.proxy import TcpProxy

pytestmark = pytest.mark.integration


def next_interval(app: Any) -> None:
    """What one refresh interval of wall time does to the cache: every read and tile is tried again."""
    for cache in app.server.extensions["cache"]:
        cache.clear()


def tiles(client: Any) -> dict[str, dict[str, Any]]:
    resp = client.get("/api/v1/kpis")
    assert resp.status_code == 200
    return {t["id"]: t for t in resp.get_json()["kpis"]}


def test_the_database_stops_mid_run_and_returns(pg_seeded: str, make_settings) -> None:  # type: ignore[no-untyped-def]
    url = make_url(pg_seeded)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    proxied = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    app = create_app(make_settings(store_url=proxied, simulator={"enabled": False}), clock=lambda: NOW)
    client = app.server.test_client()
    try:
        before = tiles(client)
        assert before["aqi"]["value"] is not None and before["aqi"]["degraded"] is None
        assert client.get("/healthz").status_code == 200

        proxy.cut()  # the database goes away …
        next_interval(app)
        during = tiles(client)
        assert during["aqi"]["value"] == before["aqi"]["value"], "the last value stays on screen"
        assert "unreachable" in (during["aqi"]["degraded"] or ""), during["aqi"]
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["status"] == "store_unreachable"
        assert health.get_json()["feeds"]["air_readings"]["state"] == "failing"
        assert client.get("/geo/cameras?scope=district").status_code in (200, 503)  # a layer answers, never a 500

        proxy.restore()  # … and comes back
        next_interval(app)
        after = tiles(client)
        assert after["aqi"]["degraded"] is None and after["aqi"]["value"] == before["aqi"]["value"]
        assert client.get("/healthz").status_code == 200
    finally:
        proxy.cut()
