"""MQTT ingestion against the real Mosquitto: persistent session, dead letters, idempotence, a store outage."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from dashboard.settings import MqttSettings
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.mqtt import Broker, Ingester, MqttPublisher
from tests.conftest import MQTT_ADDRESS
from tests.proxy import TcpProxy

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
BROKER = Broker(*MQTT_ADDRESS)


def reading(hours_ago: int, pm25: float = 30.0, station: str = "air-01") -> dict[str, object]:
    ts = (NOW - timedelta(hours=hours_ago)).astimezone().isoformat()
    return {"station_id": station, "ts": ts, "pm25": pm25, "averaging": "1h"}


def publish(prefix: str, feed: str, payloads: list[object | bytes]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(*MQTT_ADDRESS)
    client.loop_start()
    try:
        for p in payloads:
            body = p if isinstance(p, bytes) else json.dumps(p)
            client.publish(f"{prefix}/{feed}", body, qos=1).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def ingester(store: SqlSource, names: str) -> Ingester:
    settings = MqttSettings(topic_prefix=names, client_id=f"{names}-ingest", batch_ms=50, session_expiry_s=300)
    return Ingester(store, BROKER, settings, clock=lambda: NOW)


def rows(store: SqlSource) -> int:
    return len(store.read("air_readings").frame)


def test_messages_sent_while_the_ingester_is_stopped_are_stored_after_it_restarts(tmp_path: Path, mqtt_names) -> None:  # type: ignore[no-untyped-def]
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    first = ingester(store, mqtt_names).start()
    until(lambda: first.client.is_connected(), "connected")
    time.sleep(0.5)  # subscribed: the broker now keeps the session
    first.stop()
    publish(mqtt_names, "air_readings", [reading(h) for h in range(30)])  # nobody is listening
    second = ingester(store, mqtt_names).start()
    try:
        until(lambda: rows(store) == 30, "the 30 readings in the store")
    finally:
        second.stop()
    assert second.stored == 30 and store.dead_letters().empty


def test_bad_messages_go_to_dead_letters_with_the_reason_and_duplicates_are_stored_once(
    tmp_path: Path, mqtt_names
) -> None:  # type: ignore[no-untyped-def]
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    ing = ingester(store, mqtt_names).start()
    try:
        until(lambda: ing.client.is_connected(), "connected")
        time.sleep(0.5)
        publish(mqtt_names, "air_readings", [b"{not json", [reading(1), reading(2, pm25=-5.0)], reading(1), reading(3)])
        publish(mqtt_names, "weather", [{"t": 1}])
        until(lambda: len(store.dead_letters()) == 3, "three dead letters")
        until(lambda: rows(store) == 2, "two good readings (the duplicate once)")
    finally:
        ing.stop()
    letters = store.dead_letters().set_index("reason")
    reasons = " | ".join(letters.index)
    assert "payload is not JSON" in reasons
    assert "pm25: below the allowed minimum 0" in reasons
    assert f"topic '{mqtt_names}/weather' is not {mqtt_names}/<feed>" in reasons
    bad_row = letters.loc[next(r for r in letters.index if "pm25" in r)]
    assert json.loads(bad_row["payload"])["pm25"] == -5.0 and bad_row["feed"] == "air_readings"


def test_a_store_outage_loses_no_message(pg_empty: str, mqtt_names) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.engine import make_url

    url = make_url(pg_empty)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    store = SqlSource("store", SqlOptions(url=url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)))
    store.check()
    ing = ingester(store, mqtt_names).start()
    try:
        until(lambda: ing.client.is_connected(), "connected")
        time.sleep(0.5)
        proxy.cut()  # the database goes away …
        publish(mqtt_names, "air_readings", [reading(h) for h in range(20)])
        time.sleep(3)  # … the ingester fails to store and keeps the batch, unacknowledged
        assert ing.stored == 0
        proxy.restore()  # … and comes back
        until(lambda: ing.stored == 20, "the 20 readings stored after the outage", timeout=30)
    finally:
        ing.stop()
        proxy.cut()
        store.engine.dispose()
    direct = SqlSource("direct", SqlOptions(url=pg_empty))
    assert len(direct.read("air_readings").frame) == 20
    direct.engine.dispose()


def test_the_simulator_can_publish_for_the_ingester(tmp_path: Path, mqtt_names) -> None:  # type: ignore[no-untyped-def]
    from datasources.synthetic import SyntheticDistrict

    store = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    ing = ingester(store, mqtt_names).start()
    publisher = MqttPublisher(store, BROKER, mqtt_names, client_id=f"{mqtt_names}-sim")
    try:
        until(lambda: ing.client.is_connected(), "connected")
        time.sleep(0.5)
        district = SyntheticDistrict()
        written = publisher.write("air_readings", district.series("air_readings", NOW - timedelta(hours=3), NOW))
        until(lambda: rows(store) == written.written, "the published readings in the store")
        assert store.dead_letters().empty
    finally:
        publisher.close()
        ing.stop()
