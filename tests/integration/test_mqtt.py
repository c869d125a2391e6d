"""MQTT ingestion against the real Mosquitto: persistent session, dead letters, idempotence, a store outage, and a
broker of the test's own that restarts."""

from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from dashboard.settings import MqttSettings
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.mqtt import Broker, Ingester, MqttPublisher
from tests.conftest import MQTT_ADDRESS, service_missing, until
from tests.proxy import TcpProxy

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
BROKER = Broker(*MQTT_ADDRESS)


def reading(hours_ago: int, pm25: float = 30.0, station: str = "air-01") -> dict[str, object]:
    ts = (NOW - timedelta(hours=hours_ago)).astimezone().isoformat()
    return {"station_id": station, "ts": ts, "pm25": pm25, "averaging": "1h"}


def publish(
    prefix: str, feed: str, payloads: Sequence[object | bytes], address: tuple[str, int] = MQTT_ADDRESS
) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.connect(*address)
    client.loop_start()
    try:
        for p in payloads:
            body = p if isinstance(p, bytes) else json.dumps(p)
            client.publish(f"{prefix}/{feed}", body, qos=1).wait_for_publish(timeout=10)
    finally:
        client.disconnect()
        client.loop_stop()


def ingester(store: SqlSource, names: str, broker: Broker = BROKER) -> Ingester:
    settings = MqttSettings(topic_prefix=names, client_id=f"{names}-ingest", batch_ms=50, session_expiry_s=300)
    return Ingester(store, broker, settings, clock=lambda: NOW)


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


# ---- the broker restarts ------------------------------------------------------------------------------------


class OwnBroker:
    """A Mosquitto of the test's own on a free loopback port, persisting its sessions in ``directory``, so the
    test may stop and start it without touching the broker other tests share."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            service_missing("the mosquitto binary (to run a broker of the test's own)", FileNotFoundError(binary))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.binary, self.conf = binary, directory / "mosquitto.conf"
        self.conf.write_text(
            # user root: as root Mosquitto would otherwise become user mosquitto, who cannot write its database here
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\nuser root\npersistence true\n"
            f"persistence_location {directory}/\nmax_queued_messages 10000\n"
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> OwnBroker:
        with (self.conf.parent / "mosquitto.log").open("ab") as log:  # kept beside the test's files, for a failure
            self.proc = subprocess.Popen([self.binary, "-v", "-c", str(self.conf)], stderr=log)
        until(self._listening, "the broker listening", timeout=10)
        return self

    def stop(self) -> None:
        """A clean shutdown: Mosquitto writes its sessions and queued messages to disk."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)

    def _listening(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False


@pytest.fixture
def own_broker(tmp_path: Path) -> Iterator[OwnBroker]:
    broker = OwnBroker(tmp_path).start()
    try:
        yield broker
    finally:
        broker.stop()


def test_the_broker_restarts_and_nothing_is_lost_or_doubled(tmp_path: Path, own_broker: OwnBroker) -> None:
    """The ingester reaches the broker through a proxy (so the test can also cut the ingester off alone).

    Before: stored. Ingester cut off, broker up: queued for its session. Broker restarts (with those still
    queued): kept on disk. Ingester back: the queued ones arrive. After the restart: stored. Each reading once.
    """
    names, direct = "faults", ("127.0.0.1", own_broker.port)
    store = SqlSource("store", SqlOptions(url=f"sqlite:///{tmp_path / 'db.sqlite'}"))
    proxy = TcpProxy(direct).start()
    ing = ingester(store, names, Broker("127.0.0.1", proxy.port)).start()
    try:
        until(lambda: ing.client.is_connected(), "connected")
        time.sleep(0.5)  # subscribed
        publish(names, "air_readings", [reading(h) for h in range(0, 10)], direct)
        until(lambda: rows(store) == 10, "the readings sent before")

        proxy.cut()  # the ingester loses the broker, which stays up …
        until(lambda: not ing.client.is_connected(), "the ingester disconnected")
        publish(names, "air_readings", [reading(h) for h in range(10, 20)], direct)  # … queued for its session
        own_broker.stop()  # the broker restarts, with those messages queued …
        own_broker.start()
        proxy.restore()  # … and the ingester reconnects by itself
        until(lambda: rows(store) == 20, "the readings queued across the restart", timeout=25)

        publish(names, "air_readings", [reading(h) for h in range(20, 30)] + [reading(5)], direct)
        until(lambda: rows(store) == 30, "the readings sent after the restart")
        time.sleep(0.5)
    finally:
        ing.stop()
        proxy.cut()
    frame = store.read("air_readings").frame
    assert len(frame) == 30 and not frame.duplicated(["station_id", "ts"]).any()
    assert store.dead_letters().empty
    store.engine.dispose()
