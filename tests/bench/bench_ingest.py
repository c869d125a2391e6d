"""Ingestion rate: MQTT messages per second sustained into PostgreSQL by the ingester (a report, always exits 0).

    .venv/bin/python -m tests.bench.bench_ingest                      # 20 000 bus GPS pings, one per message
    .venv/bin/python -m tests.bench.bench_ingest --messages 50000 --rows-per-message 10

A fresh PostgreSQL database (dropped afterwards) and the real Mosquitto on this machine. The ingester runs with
its production settings (QoS 1, persistent session, batches of ``batch_size`` acknowledged after commit). The bus
pings are the synthetic district's, so every one passes the feed contract and lands as a row. The publisher
sends as fast as the broker acknowledges; the rate is rows stored ÷ time from the first publish to the last
commit, reported per run (median of the runs), with the publish rate beside it to show which side limited.
Issue #10 names no target; the figure is for capacity planning (the district's buses ping every 10–30 s).
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt

from dashboard.settings import MqttSettings
from datasources.kinds.sql import SqlOptions, SqlSource
from datasources.mqtt import Broker, Ingester
from datasources.synthetic import SyntheticDistrict
from tests.conftest import MQTT_ADDRESS, _pg_database

NOW = datetime(2026, 11, 29, 4, 0, tzinfo=UTC)
FEED = "bus_positions"


def payloads(messages: int, per_message: int) -> list[bytes]:
    """``messages`` JSON payloads of ``per_message`` distinct synthetic pings each (oldest first)."""
    district = SyntheticDistrict()
    needed, span = messages * per_message, timedelta(hours=1)
    frame = district.series(FEED, NOW - span, NOW)
    while len(frame) < needed:  # reach further back until there are enough distinct pings
        span *= 2
        frame = district.series(FEED, NOW - span, NOW)
    frame = frame.sort_values("ts").tail(needed)
    frame["ts"] = frame["ts"].map(lambda t: t.isoformat())
    rows = json.loads(frame.to_json(orient="records", force_ascii=False))
    return [json.dumps(rows[i : i + per_message], ensure_ascii=False).encode() for i in range(0, needed, per_message)]


def publish_all(prefix: str, bodies: list[bytes]) -> float:
    """Publish every body at QoS 1 (at most 1000 in flight); returns the seconds it took."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-pub", protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(*MQTT_ADDRESS)
    client.loop_start()
    started = time.perf_counter()
    try:
        infos = [client.publish(f"{prefix}/{FEED}", body, qos=1) for body in bodies]
        for info in infos:
            info.wait_for_publish(timeout=120)
        return time.perf_counter() - started
    finally:
        client.disconnect()
        client.loop_stop()


def one_run(url: str, bodies: list[bytes], rows: int, timeout_s: float) -> tuple[float, float, int]:
    """(rows/s stored, messages/s published, rows stored) for one pass over a fresh prefix."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    store = SqlSource("store", SqlOptions(url=url))
    settings = MqttSettings(topic_prefix=prefix, client_id=f"{prefix}-ingest", session_expiry_s=60)
    ingester = Ingester(store, Broker(*MQTT_ADDRESS), settings, clock=lambda: NOW).start()
    try:
        deadline = time.monotonic() + 10
        while not ingester.client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)  # subscribed
        before = ingester.stored
        started = time.perf_counter()
        published: list[float] = []
        sender = threading.Thread(target=lambda: published.append(publish_all(prefix, bodies)))
        sender.start()
        deadline = time.monotonic() + timeout_s
        while ingester.stored - before < rows and time.monotonic() < deadline:
            time.sleep(0.01)
        took = time.perf_counter() - started
        sender.join(timeout_s)
        stored = ingester.stored - before
    finally:
        ingester.stop()
        store.engine.dispose()
    return stored / took, len(bodies) / published[0] if published else float("nan"), stored


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rows-per-message", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    bodies = payloads(args.messages, args.rows_per_message)
    rows = args.messages * args.rows_per_message
    print(f"ingestion into PostgreSQL: {args.messages} messages × {args.rows_per_message} bus pings, {args.runs} runs")
    stored_rates, publish_rates = [], []
    with _pg_database() as url:
        for run in range(1, args.runs + 1):
            # Each run writes the same pings again: upserts of existing keys, as a re-delivery would be.
            rate, published, stored = one_run(url, bodies, rows, args.timeout)
            lost = rows - stored
            print(f"  run {run}: {rate:8.0f} rows/s stored   {published:8.0f} msg/s published   lost {lost}")
            stored_rates.append(rate)
            publish_rates.append(published)
    print(f"median: {statistics.median(stored_rates):.0f} rows/s "
          f"({statistics.median(stored_rates) / args.rows_per_message:.0f} msg/s) sustained into PostgreSQL; "
          f"publisher {statistics.median(publish_rates):.0f} msg/s")  # fmt: skip
    if statistics.median(stored_rates) / args.rows_per_message >= 0.9 * statistics.median(publish_rates):
        print("the ingester kept up with the publisher: the stored rate is a lower bound of what it can take")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
