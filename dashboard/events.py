"""Events and dispatch (事件应对处置): the event book over the store, and the rules run in the live loop.

An event is a row of the ``events`` feed (what the ticker, the map and other systems read: its current state) plus
its entries in ``event_log``, the append-only audit log (who did what, when, from which state to which, with the
data that triggered it). :class:`EventBook` is the only writer of both: every change appends an entry and
rewrites the feed row's state in one transaction; nothing is deleted, so an event's history is its log.

Two operators (or an operator and the rules) acting on one event at once cannot both win: an entry is appended
only while its ``state_from`` is still the event's state in the log (checked by the INSERT itself, under a
per-event advisory lock on PostgreSQL; SQLite serialises writers), so the loser gets :class:`InvalidTransition`
("changed meanwhile") and nothing of it is written.

:func:`engine_rules` is what the live loop runs: the rule engine (:mod:`dashboard.domain.rules`) over the store's
recent rows, then :meth:`EventBook.sync` (events the scenes' own rules wrote get their log entries) and
:meth:`EventBook.escalate` (new events nobody acknowledged in time).
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import exists, func, literal, select

from dashboard.domain import lifecycle
from dashboard.domain.lifecycle import Entry, InvalidTransition, Record
from dashboard.domain.rules import Change, OpenEvent, Rule, plan
from dashboard.event_rules import METRICS, Catalogue, load_catalogue
from dashboard.settings import Settings
from datasources.base import WritableSource
from datasources.kinds.sql import METADATA

log = logging.getLogger(__name__)
#: How far back the book looks for events to keep in step (the ``events`` feed's live window).
WINDOW = timedelta(days=7)
COLUMNS = ("event_id", "ts", "domain", "rule_id", "severity", "lon", "lat", "town_code", "state", "title")
SYSTEM = "rules"

__all__ = ["EventBook", "InvalidTransition", "engine_rules"]


class EventBook:
    """Events in the store: raise, act on, replay. Needs the ``sql`` store (it keeps the audit log)."""

    def __init__(self, store: WritableSource, catalogue: Catalogue | None = None) -> None:
        if not hasattr(store, "engine"):
            raise TypeError(f"the event book needs the sql store, not {type(store).__name__}")
        self.store = store
        self.engine = store.engine
        self.catalogue = catalogue or load_catalogue()
        self.table = METADATA.tables["event_log"]

    def _connect(self) -> Any:
        """A connection to the store, its schema (and so the log table) migrated first."""
        return self.store._connect()  # type: ignore[attr-defined]

    # ---- reads -------------------------------------------------------------------------------

    def events(self, now: datetime, since: datetime | None = None) -> pd.DataFrame:
        return self.store.read("events", start=since or now - WINDOW, end=None).frame

    def row(self, event_id: str) -> dict[str, Any]:
        """The event's feed row; KeyError names an unknown id."""
        table = METADATA.tables["events"]
        with self._connect() as conn:
            found = conn.execute(select(table).where(table.c.event_id == event_id)).mappings().first()
        if found is None:
            raise KeyError(f"no event {event_id!r}")
        return dict(found)

    def entries(self, event_ids: Iterable[str] | None = None) -> list[Entry]:
        """Log entries (oldest first), of some events or of all."""
        query = select(self.table).order_by(self.table.c.seq)
        if event_ids is not None:
            query = query.where(self.table.c.event_id.in_(list(event_ids)))
        with self._connect() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            Entry(
                r["event_id"],
                r["at"],
                r["who"],
                r["action"],
                r["state_from"],
                r["state_to"],
                json.loads(r["detail"] or "{}"),
            )
            for r in rows
        ]

    def record(self, event_id: str) -> Record:
        return lifecycle.replay(event_id, self.entries([event_id]))

    def records(self, event_ids: Iterable[str]) -> dict[str, Record]:
        by_event: dict[str, list[Entry]] = {}
        for e in self.entries(list(event_ids)):
            by_event.setdefault(e.event_id, []).append(e)
        return {eid: lifecycle.replay(eid, by_event.get(eid, [])) for eid in event_ids}

    # ---- changes -----------------------------------------------------------------------------

    def act(self, event_id: str, action: str, who: str, now: datetime, **detail: Any) -> Record:
        """Apply an operator's (or the rules') action; raises :class:`InvalidTransition` when not allowed."""
        row = self.row(event_id)
        rule = self.catalogue.get(row["rule_id"])
        steps = len(rule.procedure) if rule else 0
        if action == "check" and "item" in detail:
            detail["item"] = _int(detail["item"])
        to = lifecycle.check(event_id, row["state"], action, detail, steps)
        who = (who or "").strip()[:80] or "operator"
        if action == "escalate" and self.record(event_id).escalations:
            raise InvalidTransition(f"event {event_id} is already escalated")
        with self._transaction(event_id) as conn:
            if not self._append(conn, event_id, now, who, action, row["state"], to, detail):
                raise InvalidTransition(f"event {event_id} changed meanwhile (someone else acted on it): reload it")
            if to != row["state"]:
                self._write_row(conn, {**row, "state": to}, now, f"events:{action}")
        return self.record(event_id)

    def raise_event(self, row: Mapping[str, Any], now: datetime, who: str = SYSTEM, **detail: Any) -> bool:
        """Open an event (its first log entry and its feed row); False when it exists already (deduplicated)."""
        event_id = str(row["event_id"])
        with self._transaction(event_id) as conn:
            if not self._append(conn, event_id, now, who, "raise", None, str(row["state"]), detail):
                return False
            self._write_row(conn, row, now, "rules:engine")
        return True

    @contextmanager
    def _transaction(self, event_id: str) -> Iterator[Any]:
        """One transaction for one event's change, committed only if the block finishes.

        PostgreSQL: a transaction-scoped advisory lock per event, so a concurrent change waits and then sees this
        one; SQLite takes its database write lock at the first write, which serialises writers anyway.
        """
        with self.store.writing(f"event {event_id}") as conn:  # type: ignore[attr-defined]  # a full disk: named, in health
            if self.engine.dialect.name == "postgresql":
                conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"event:{event_id}"))))
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()

    def _append(
        self,
        conn: Any,
        event_id: str,
        at: datetime,
        who: str,
        action: str,
        frm: str | None,
        to: str | None,
        detail: Mapping[str, Any],
    ) -> bool:
        """Append an entry if ``frm`` is still the event's state in the log (None: the log is empty).

        The check is part of the INSERT, so it holds at the moment of writing; returns whether it was written.
        """
        log_ = self.table
        values = {
            "event_id": event_id,
            "at": at,
            "who": who,
            "action": action,
            "state_from": frm,
            "state_to": to,
            "detail": json.dumps(_plain(detail), ensure_ascii=False),
        }
        mine = log_.c.event_id == event_id
        if frm is None:
            still = ~exists(select(log_.c.seq).where(mine))
        else:
            latest = (
                select(log_.c.state_to)
                .where(mine, log_.c.state_to.is_not(None), log_.c.state_to != "")
                .order_by(log_.c.seq.desc())
                .limit(1)
                .scalar_subquery()
            )
            still = func.coalesce(latest, "new") == frm  # an event the scenes wrote, not yet logged, is new
        row = select(*[literal(v, type_=log_.c[k].type).label(k) for k, v in values.items()]).where(still)
        # RETURNING, not rowcount: the PostgreSQL driver reports -1 rows for INSERT … SELECT.
        return conn.execute(log_.insert().from_select(list(values), row).returning(log_.c.seq)).first() is not None

    def _write_row(self, conn: Any, row: Mapping[str, Any], now: datetime, origin: str) -> None:
        frame = pd.DataFrame([{c: row.get(c) for c in COLUMNS}])
        at = max(now, pd.Timestamp(row["ts"]).to_pydatetime())
        result = self.store.write_in(conn, "events", frame, now=at, origin=origin)  # type: ignore[attr-defined]
        if not result.report.ok:
            raise ValueError(f"event {row['event_id']} rejected: {result.report.summary()}")

    # ---- the rules' bookkeeping ----------------------------------------------------------------

    def apply(self, changes: Iterable[Change], now: datetime) -> int:
        """Write the engine's changes (open/update/auto-resolve); returns how many were made."""
        done = 0
        for c in changes:
            cond, rule, subject = c.condition, c.rule, c.subject
            data = _trigger(rule, cond)
            if c.action == "open":
                if self._exists(c.event_id):  # the same breach, already resolved or closed by an operator
                    continue
                assert cond is not None
                raised = self.raise_event(
                    {
                        "event_id": c.event_id,
                        "ts": cond.since,
                        "domain": rule.domain,
                        "rule_id": rule.id,
                        "severity": rule.severity,
                        "lon": subject.lon,
                        "lat": subject.lat,
                        "town_code": subject.town_code,
                        "state": "new",
                        "title": title(rule, subject.name, cond.worst),
                    },
                    now,
                    subject=subject.id,
                    **data,
                )
                if not raised:  # another process raised it between the check and now
                    continue
            elif c.action == "update":
                assert cond is not None
                if not self._update(c.event_id, {"title": title(rule, subject.name, cond.worst)}, now, data):
                    continue
            else:
                try:
                    self.act(c.event_id, "auto_resolve", SYSTEM, now, **data)
                except InvalidTransition:  # an operator resolved or closed it meanwhile: the next pass re-plans
                    continue
            done += 1
        return done

    def _update(self, event_id: str, changes: Mapping[str, Any], now: datetime, data: Mapping[str, Any]) -> bool:
        """The rules' update of an open event (its title follows the worst value); skipped if it changed meanwhile."""
        row = self.row(event_id)
        with self._transaction(event_id) as conn:
            if not self._append(conn, event_id, now, SYSTEM, "update", row["state"], row["state"], data):
                return False
            self._write_row(conn, {**row, **changes}, now, "rules:engine")
        return True

    def open_events(self, now: datetime) -> list[OpenEvent]:
        """Open events of engine rules with their subject and the worst value their log recorded."""
        events = self.events(now)
        events = events.loc[events["state"].isin(lifecycle.OPEN_STATES)]
        worst: dict[str, float] = {}
        subjects: dict[str, str] = {}
        for e in self.entries(events["event_id"].tolist()):
            if "worst" in e.detail:
                worst[e.event_id] = float(e.detail["worst"])
            if "subject" in e.detail:
                subjects[e.event_id] = str(e.detail["subject"])
        return [
            OpenEvent(eid, rid, subjects[eid], worst.get(eid))
            for eid, rid in zip(events["event_id"], events["rule_id"], strict=True)
            if eid in subjects
        ]

    def sync(self, now: datetime) -> int:
        """Log what the scenes' own rules wrote straight into the feed (new events, states they changed)."""
        events = self.events(now)
        if events.empty:
            return 0
        records = self.records(events["event_id"].tolist())
        done = 0
        for e in events.itertuples(index=False):
            rec = records[e.event_id]
            origin = f"{SYSTEM}:{e.domain}"
            if not rec.entries:
                with self._transaction(e.event_id) as conn:
                    if self._append(
                        conn, e.event_id, e.ts.to_pydatetime(), origin, "raise", None, "new", {"title": e.title}
                    ):
                        done += 1
                rec = lifecycle.replay(e.event_id, self.entries([e.event_id]))
            if rec.state != e.state:
                action = "auto_resolve" if e.state == "resolved" and rec.state in lifecycle.OPEN_STATES else "update"
                with self._transaction(e.event_id) as conn:
                    done += self._append(conn, e.event_id, now, origin, action, rec.state, e.state, {"title": e.title})
        return done

    def escalate(self, now: datetime, after: timedelta) -> int:
        """Escalate (once) every new event nobody acknowledged within ``after`` of being raised."""
        events = self.events(now)
        waiting = events.loc[events["state"].eq("new")]
        done = 0
        for eid, rec in self.records(waiting["event_id"].tolist()).items():
            if rec.state == "new" and not rec.escalations and rec.raised_at and now - rec.raised_at >= after:
                minutes = round((now - rec.raised_at).total_seconds() / 60)
                with self._transaction(eid) as conn:
                    done += self._append(
                        conn, eid, now, SYSTEM, "escalate", "new", "new", {"unacknowledged_min": minutes}
                    )
        return done

    def _exists(self, event_id: str) -> bool:
        try:
            self.row(event_id)
        except KeyError:
            return False
        return True


def title(rule: Rule, subject: str, worst: float) -> str:
    return f"{subject} {rule.title_zh}（{_shown(rule, worst)}）"[:200]


def _shown(rule: Rule, value: float) -> str:
    if math.isnan(value):
        return "—"
    if rule.unit == "%":
        return f"{100 * value:.1f}%"
    if math.isinf(value):
        return "无数据"
    return f"{value:.4g}{rule.unit}"


def _trigger(rule: Rule, cond: Any) -> dict[str, Any]:
    """The data behind a change, kept in the log: the condition and the samples that made it."""
    if cond is None:
        return {"condition": f"{rule.metric} {rule.op} {rule.value}"}
    return {
        "condition": f"{rule.metric} {rule.op} {rule.value}",
        "since": cond.since.isoformat(),
        "value": cond.value,
        "worst": cond.worst,
        "samples": [[s.at.isoformat(), s.value] for s in cond.samples],
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _int(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


# ---- the live loop ---------------------------------------------------------------------------------


class StoreReader:
    """The :class:`~dashboard.event_rules.Reader` over the store, each feed read once per evaluation."""

    def __init__(self, store: WritableSource, now: datetime) -> None:
        self.store, self.now = store, now
        self._frames: dict[tuple[str, datetime | None], pd.DataFrame] = {}

    def frame(self, feed: str, since: datetime | None = None) -> pd.DataFrame:
        key = (feed, since)
        if key not in self._frames:
            self._frames[key] = self.store.read(feed, start=since, end=self.now if since else None).frame
        return self._frames[key]

    def latest(self, feed: str) -> datetime | None:
        return self.store.latest(feed)


def evaluate(book: EventBook, settings: Settings, now: datetime) -> int:
    """One pass of every enabled engine rule over the store; returns the event changes made."""
    reader = StoreReader(book.store, now)
    open_events = book.open_events(now)
    done = 0
    subjects: dict[str, list[Any]] = {}
    for rule in book.catalogue.engine_rules():
        try:
            if rule.metric not in subjects:
                subjects[rule.metric] = METRICS[rule.metric](reader, settings, now)
            done += book.apply(plan(rule, subjects[rule.metric], open_events, now), now)
        except Exception:  # one broken rule (a feed missing) must not stop the others
            log.exception("event rule %s failed", rule.id)
    return done


def engine_rules(
    store: WritableSource, settings: Settings, every: timedelta = timedelta(seconds=30)
) -> Callable[[datetime], int]:
    """The rules engine for the live loop: evaluate, log the scenes' events, escalate; at most every ``every``."""
    book = EventBook(store, load_catalogue(settings))
    last: dict[str, datetime | None] = {"at": None}

    def run(now: datetime) -> int:
        if last["at"] is not None and now - last["at"] < every:
            return 0
        last["at"] = now
        done = evaluate(book, settings, now)
        done += book.sync(now)
        book.escalate(now, timedelta(minutes=settings.events.escalate_after_min))
        return done

    return run
