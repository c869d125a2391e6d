"""MQTT: sensors publish rows, the ingester validates and stores them; the simulator can publish too.

Topics are ``<prefix>/<feed>`` (e.g. ``shanting/air_readings``). A payload is
UTF-8 JSON: one object with the feed's contract keys, or an array of them.
Times are ISO 8601 with offset. Example::

    shanting/air_readings  {"station_id": "air-01", "ts": "2026-11-29T12:00:00+08:00",
                            "pm25": 35.0, "pm10": 60.0, "averaging": "1h"}

Delivery is at least once and storage idempotent: the ingester keeps a
persistent session (MQTT 5, clean start off, a session expiry) and subscribes
with QoS 1, so the broker keeps what arrives while it is stopped; a message is
acknowledged only once its rows are committed, so a store that is down loses
nothing (the batch is retried, and unacknowledged messages come again after a
restart); rows are upserted on the feed's key, so a message delivered twice is
stored once. What cannot be stored (malformed JSON, an unknown feed, a row the
contract rejects) goes to the store's ``dead_letters`` with the reason.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pandas as pd
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from datasources.base import SourceError, WriteResult
from datasources.contracts import CONTRACTS
from datasources.validation import validate

log = logging.getLogger(__name__)
#: How long a failed store write waits before the same batch is tried again.
RETRY_S = 2.0
#: Messages the broker may send before the ingester acknowledges (MQTT 5 Receive Maximum).
RECEIVE_MAXIMUM = 2000


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_url(cls, url: str) -> Broker:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "tcp") or not parts.hostname:
            raise ValueError(f"MQTT URL must look like mqtt://host[:port], got {url!r}")
        return cls(parts.hostname, parts.port or 1883, parts.username, parts.password)

    def client(self, client_id: str, *, persistent: bool, session_expiry_s: int = 0) -> tuple[mqtt.Client, Properties]:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if self.username:
            client.username_pw_set(self.username, self.password)
        props = Properties(PacketTypes.CONNECT)
        if persistent:
            props.SessionExpiryInterval = session_expiry_s
            props.ReceiveMaximum = RECEIVE_MAXIMUM
        return client, props


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    mid: int
    qos: int


def topic_feed(topic: str, prefix: str) -> str | None:
    """The feed a topic carries, or None when it is not ``<prefix>/<known feed>``."""
    head, _, feed = topic.rpartition("/")
    return feed if head == prefix and feed in CONTRACTS else None


def decode(payload: bytes) -> list[dict[str, Any]]:
    """The rows of a payload; ``ValueError`` names what is wrong with it."""
    try:
        data = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"payload is not UTF-8: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"payload is not JSON: {exc.msg} at position {exc.pos}") from None
    rows = data if isinstance(data, list) else [data]
    if not rows or not all(isinstance(r, dict) for r in rows):
        raise ValueError("payload must be a JSON object or a non-empty array of objects")
    return rows


class Ingester:
    """Subscribes to ``<prefix>/+`` and writes batches into ``store``; see the module docstring."""

    def __init__(self, store: Any, broker: Broker, settings: Any, clock: Callable[[], datetime] | None = None) -> None:
        self.store, self.broker, self.settings = store, broker, settings
        self.clock = clock
        self.inbox: queue.Queue[Message] = queue.Queue()
        self.stored = 0  # rows committed, for reports and tests
        self.dead = 0
        self._stop = threading.Event()
        self.client, self._props = broker.client(
            settings.client_id, persistent=True, session_expiry_s=settings.session_expiry_s
        )
        self.client.manual_ack_set(True)
        # paho doubles its reconnect delay up to 2 minutes: after a long broker outage the ingester would idle that
        # long once the broker is back. Every 10 s at most costs nothing.
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = lambda *a: log.warning("MQTT broker disconnected; reconnecting")

    def _on_connect(self, client: mqtt.Client, _ud: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(f"{self.settings.topic_prefix}/+", qos=1)
        log.info("MQTT ingester subscribed to %s/+ at %s:%s", self.settings.topic_prefix, *self._where())

    def _where(self) -> tuple[str, int]:
        return self.broker.host, self.broker.port

    def _on_message(self, _client: mqtt.Client, _ud: Any, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(Message(msg.topic, bytes(msg.payload), msg.mid, msg.qos))

    # ---- running -------------------------------------------------------------------

    def start(self) -> Ingester:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30, clean_start=False,
                                  properties=self._props)  # fmt: skip
        self.client.loop_start()
        self._writer = threading.Thread(target=self._write_loop, name="mqtt-ingest-writer", daemon=True)
        self._writer.start()
        return self

    def stop(self, drain_s: float = 5.0) -> None:
        """Write what has arrived (up to ``drain_s``), then disconnect; the session stays on the broker."""
        deadline = time.monotonic() + drain_s
        while not self.inbox.empty() and time.monotonic() < deadline:
            time.sleep(0.05)
        self._stop.set()
        self._writer.join(timeout=drain_s + RETRY_S)
        self.client.disconnect()
        self.client.loop_stop()

    def request_stop(self) -> None:
        """Ask :meth:`run_forever` to finish (from a signal handler)."""
        self._stop.set()

    def run_forever(self) -> None:
        self.start()
        try:
            while not self._stop.wait(1.0):
                pass
        finally:
            # Whatever is not yet stored is not acknowledged either: the broker sends it again next time.
            self.stop(drain_s=0)

    def _write_loop(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            while batch and not self._stop.is_set():
                try:
                    self.write_batch(batch)
                    break
                except SourceError as exc:  # the store is down or full: keep the batch, unacknowledged, try again
                    log.error("storing %d MQTT messages failed, kept unacknowledged; retrying in %.0f s: %s",
                              len(batch), RETRY_S, exc)  # fmt: skip
                    self._stop.wait(RETRY_S)
                except Exception:  # anything else: the same, with the traceback
                    log.exception("storing %d MQTT messages failed; retrying in %.0f s", len(batch), RETRY_S)
                    self._stop.wait(RETRY_S)

    def _next_batch(self) -> list[Message]:
        try:
            batch = [self.inbox.get(timeout=0.2)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.settings.batch_ms / 1000
        while len(batch) < self.settings.batch_size:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                batch.append(self.inbox.get(timeout=left))
            except queue.Empty:
                break
        return batch

    # ---- one batch -----------------------------------------------------------------------

    def write_batch(self, batch: list[Message]) -> None:
        """Store a batch: good rows upserted per feed, the rest dead-lettered; then acknowledge every message."""
        letters: list[dict[str, Any]] = []
        per_feed: dict[str, list[tuple[Message, dict[str, Any]]]] = {}
        for msg in batch:
            feed = topic_feed(msg.topic, self.settings.topic_prefix)
            if feed is None:
                letters.append(_letter(msg, None, f"topic {msg.topic!r} is not {self.settings.topic_prefix}/<feed>"))
                continue
            try:
                rows = decode(msg.payload)
            except ValueError as exc:
                letters.append(_letter(msg, feed, str(exc)))
                continue
            per_feed.setdefault(feed, []).extend((msg, row) for row in rows)
        for feed, items in per_feed.items():
            letters += self._store_feed(feed, items)
        if letters:
            self.dead += self.store.dead_letter(letters)
        for msg in batch:  # only now: everything above is committed
            if msg.qos:
                self.client.ack(msg.mid, msg.qos)

    def _store_feed(self, feed: str, items: list[tuple[Message, dict[str, Any]]]) -> list[dict[str, Any]]:
        frame = pd.DataFrame([row for _, row in items])
        now = self.clock() if self.clock else None
        # One contract check, the store's: its reasons name the rejected rows for the dead letters.
        result: WriteResult = self.store.write(feed, frame, now=now, origin="mqtt")
        self.stored += result.written
        return [
            _letter(items[pos][0], feed, reason, items[pos][1])
            for pos, reason in result.reasons.items()
            if "duplicate key" not in reason  # superseded by a later row of the same key: not an error
        ]


def _letter(msg: Message, feed: str | None, reason: str, row: dict[str, Any] | None = None) -> dict[str, Any]:
    payload = json.dumps(row, ensure_ascii=False, default=str) if row is not None else _text(msg.payload)
    return {"origin": f"mqtt:{msg.topic}", "feed": feed, "reason": reason, "payload": payload}


def _text(payload: bytes) -> str:
    return payload.decode("utf-8", errors="backslashreplace")[:100_000]


class MqttPublisher:
    """A store stand-in for the simulator: rows are published to MQTT instead of written.

    Reads (``latest``, ``count``) and retention go to the real store, which the
    ingester fills, so the simulator still knows where to continue.
    """

    def __init__(self, store: Any, broker: Broker, prefix: str, client_id: str = "shanting-simulator") -> None:
        self.store, self.prefix = store, prefix
        self.client, props = broker.client(client_id, persistent=False)
        self.client.connect(broker.host, broker.port, keepalive=30, properties=props)
        self.client.loop_start()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def write(self, feed: str, frame: pd.DataFrame, *, now: datetime | None = None, origin: str = "write") -> Any:
        rows = json.loads(frame.to_json(orient="records", date_format="iso", date_unit="us", default_handler=str))
        infos = [self.client.publish(f"{self.prefix}/{feed}", json.dumps(chunk), qos=1) for chunk in _chunks(rows)]
        for info in infos:
            info.wait_for_publish(timeout=30)
        return WriteResult(feed, len(rows), validate(feed, frame.iloc[0:0]).report)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _chunks(rows: list[Any], size: int = 200) -> Iterable[list[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
