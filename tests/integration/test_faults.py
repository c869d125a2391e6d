"""Faults while the app serves (issue #12): the store's database, Redis, and a department's HTTP API go away or
misbehave mid-run, and come back.

Real services are put behind a loopback proxy the test cuts and restores, so the database and Redis other tests
share keep running. While a part is away the screens keep their last values, marked 数据源异常 where data is
concerned, /healthz says what failed, and when it returns everything recovers by itself, with no restart.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy.engine import make_url

from dashboard import simulation
from dashboard.app import create_app
from dashboard.settings import MqttSettings
from datasources import SourceError
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.mqtt import Broker, Ingester
from datasources.synthetic import SyntheticDistrict
from tests.conftest import MQTT_ADDRESS, NOW, REDIS_URL, until
from tests.feed_servers import Faulty, api, serving
from tests.proxy import DiskFull, TcpProxy

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


# ---- Redis stops and returns --------------------------------------------------------------------------------


def test_redis_stops_mid_run_and_returns(app_at_now, redis_prefix, caplog) -> None:  # type: ignore[no-untyped-def]
    parsed = redis.connection.parse_url(REDIS_URL)
    proxy = TcpProxy((parsed.get("host", "127.0.0.1"), int(parsed.get("port", 6379)))).start()
    direct = redis.Redis.from_url(REDIS_URL)
    app = app_at_now(cache_url=f"redis://127.0.0.1:{proxy.port}/0", cache_prefix=redis_prefix)
    app.server.extensions["shanting.services"].cache.cache.retry_s = 0.5  # not the production 5 s: a fast test
    client = app.server.test_client()
    try:
        before = tiles(client)
        assert client.get("/healthz").get_json()["cache"] == {"kind": "redis", "shared": True}
        assert direct.keys(redis_prefix + "*"), "results are shared through Redis"

        proxy.cut()  # Redis goes away …
        with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
            during = tiles(client)
            assert client.get("/").status_code == 200  # the page itself
            assert client.get("/geo/cameras?scope=district").status_code == 200
            health = client.get("/healthz")
        assert during == before, "the same values, computed by this process alone"
        assert health.status_code == 200 and health.get_json()["cache"] == {"kind": "redis", "shared": False}
        assert [r.message for r in caplog.records if "unreachable" in r.message], "a logged warning"
        direct.delete(*direct.keys(redis_prefix + "*"))

        proxy.restore()  # … and comes back
        time.sleep(0.6)  # the next retry
        after = tiles(client)
        assert after == before
        assert client.get("/healthz").get_json()["cache"] == {"kind": "redis", "shared": True}
        assert direct.keys(redis_prefix + "*"), "results are shared through Redis again"
        assert any("is back" in r.message for r in caplog.records)
    finally:
        proxy.cut()
        direct.close()


# ---- a department's HTTP API times out, answers 500 or garbage ---------------------------------------------

#: What /healthz says about the air feed for each way the API misbehaves.
HTTP_FAULTS = {
    "timeout": "ReadTimeout",
    "500": "answered 500",
    "garbage": "did not answer JSON",
    "wrong_shape": "expected a JSON array of objects",
}


def test_an_http_source_that_times_out_or_answers_500_or_garbage(seeded_copy: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    department = SqlSource("department", SqlOptions(url=f"sqlite:///{seeded_copy}"))
    faulty = Faulty(api(department), delay_s=1.5)
    with serving(faulty) as url:
        dept = {"kind": "http", "base_url": url, "feeds": ["air_readings"], "timeout_s": 0.5, "retries": 1,
                "backoff_s": 0.05}  # fmt: skip
        # One refresh interval of 1 s, lived for real: the HTTP feed (it has no data version) is read again after
        # it, while the store's versioned feeds and their tiles stay cached, as in operation.
        settings = make_settings(store_url=f"sqlite:///{seeded_copy}", simulator={"enabled": False}, refresh_s=1,
                                 sources={"dept": dept}, feeds={"air_readings": "dept"})  # fmt: skip
        app = create_app(settings, clock=lambda: NOW)
        client = app.server.test_client()
        good = tiles(client)
        assert good["aqi"]["value"] is not None and good["aqi"]["degraded"] is None
        assert client.get("/healthz").get_json()["feeds"]["air_readings"]["state"] == "fresh"
        for mode, reason in HTTP_FAULTS.items():
            faulty.mode = mode  # the API misbehaves …
            time.sleep(1.1)
            bad = tiles(client)
            air = {k for k, tile in bad.items() if tile["degraded"]}  # the tiles computed from air readings
            assert {"aqi", "good_days"} <= air and {bad[k]["domain"] for k in air} == {"environment"}, (mode, air)
            for k in air:
                assert bad[k]["value"] == good[k]["value"], f"{mode}: {k} keeps its last good value"
                assert reason in bad[k]["degraded"], (mode, bad[k])
            assert {k: bad[k] for k in bad.keys() - air} == {k: good[k] for k in good.keys() - air}, "the others"
            health = client.get("/healthz")
            assert health.status_code == 200, "the store is fine: the app is up"
            air = health.get_json()["feeds"]["air_readings"]
            assert air["state"] == "failing" and air["source"] == "dept" and reason in air["problem"], (mode, air)
            assert client.get("/environment").status_code == 200

            faulty.mode = "ok"  # … and answers well again
            time.sleep(1.1)
            assert tiles(client) == good, f"{mode}: recovered"
            assert client.get("/healthz").get_json()["feeds"]["air_readings"]["state"] == "fresh"
    department.engine.dispose()


# ---- the store's disk fills up ------------------------------------------------------------------------------


def test_a_full_disk_fails_writes_loudly_keeps_reads_and_loses_nothing(
    seeded_copy: Path, make_settings, mqtt_names: str, caplog
) -> None:  # type: ignore[no-untyped-def]
    app = create_app(make_settings(store_url=f"sqlite:///{seeded_copy}", simulator={"enabled": False}),
                     clock=lambda: NOW)  # fmt: skip
    client = app.server.test_client()
    store = app.server.extensions["shanting.services"].sources.store  # the embedded simulator writes through it
    ingest_store = SqlSource("ingest", SqlOptions(url=f"sqlite:///{seeded_copy}"))  # the ingester's own process
    disk = DiskFull(store.engine, ingest_store.engine)
    mqtt = MqttSettings(topic_prefix=mqtt_names, client_id=f"{mqtt_names}-ingest", batch_ms=50, session_expiry_s=300)
    ingester = Ingester(ingest_store, Broker(*MQTT_ADDRESS), mqtt, clock=lambda: NOW).start()
    later, backfill = NOW + timedelta(minutes=15), timedelta(days=3)
    readings = [{"station_id": "air-01", "ts": (NOW - timedelta(minutes=m)).isoformat(), "pm25": 41.0,
                 "averaging": "1h"} for m in (50, 40, 30)]  # fmt: skip
    try:
        before = tiles(client)
        assert client.get("/healthz").get_json()["store_writes"]["ok"] is True
        until(lambda: ingester.client.is_connected(), "the ingester connected")
        time.sleep(0.5)

        disk.full = True  # the disk fills up …
        with caplog.at_level(logging.ERROR), pytest.raises(SourceError, match="database or disk is full"):
            simulation.tick(store, SyntheticDistrict(), later, backfill)  # the simulator's next rows
        assert any("cannot write" in r.message and "disk is full" in r.message for r in caplog.records), "logged"
        _publish(mqtt_names, readings)
        time.sleep(2)
        assert ingester.stored == 0, "nothing stored, so nothing acknowledged"

        next_interval(app)
        health = client.get("/healthz")
        body = health.get_json()
        assert health.status_code == 200 and body["status"] == "store_writes_failing", body["status"]
        assert "cannot write" in body["store_writes"]["error"] and "disk is full" in body["store_writes"]["error"]
        assert tiles(client) == before, "reads keep serving"
        sync = client.post("/api/v1/screens/main/sync", json={"scene": "overview", "scope": "district"})
        assert sync.status_code == 200, "a screen keeps polling although its heartbeat cannot be kept"
        command = client.post("/api/v1/screens/main/command", json={"command": "show", "scene": "video"})
        assert command.status_code == 503 and "disk is full" in command.get_json()["error"], command.get_json()

        disk.full = False  # … and space returns
        until(lambda: ingester.stored == 3, "the readings kept by the ingester stored", timeout=15)
        counts = simulation.tick(store, SyntheticDistrict(), later, backfill)  # the next tick fills the gap
        assert sum(counts.values()) > 0 and store.latest("segment_speeds") > NOW
        next_interval(app)
        assert client.get("/healthz").get_json()["status"] == "ok"
        assert (
            client.post("/api/v1/screens/main/command", json={"command": "show", "scene": "video"}).status_code == 200
        )
    finally:
        ingester.stop()
        ingest_store.engine.dispose()
    frame = store.read("air_readings", start=NOW - timedelta(hours=1), end=NOW).frame
    assert (frame["pm25"] == 41.0).sum() == 3, "each kept reading stored once"


def _publish(prefix: str, payloads: list[dict[str, Any]]) -> None:
    import json

    import paho.mqtt.client as paho

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect(*MQTT_ADDRESS)
    client.loop_start()
    try:
        for p in payloads:
            client.publish(f"{prefix}/air_readings", json.dumps(p), qos=1).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()
