"""What the events page shows: the filtered list and the statistics, pure over the events and their records."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd

from dashboard.domain.lifecycle import OPEN_STATES, Record

SINCE: Mapping[str, timedelta] = {"24h": timedelta(hours=24), "72h": timedelta(hours=72), "7d": timedelta(days=7)}


@dataclass(frozen=True)
class Filters:
    domains: tuple[str, ...] = ()
    severities: tuple[int, ...] = ()
    states: tuple[str, ...] = ()
    town: str | None = None
    since: str = "7d"


def filter_events(events: pd.DataFrame, f: Filters, now: datetime) -> pd.DataFrame:
    """The events matching every filter (an empty filter matches all), open and most severe first, then newest."""
    keep = events["ts"] > pd.Timestamp(now - SINCE.get(f.since, SINCE["7d"]))
    if f.domains:
        keep &= events["domain"].isin(f.domains)
    if f.severities:
        keep &= events["severity"].isin(f.severities)
    if f.states:
        keep &= events["state"].isin(f.states)
    if f.town:
        keep &= events["town_code"].eq(f.town)
    out = events.loc[keep].assign(_open=lambda d: d["state"].isin(OPEN_STATES))
    return out.sort_values(["_open", "severity", "ts"], ascending=False).drop(columns="_open")


@dataclass(frozen=True)
class DepartmentStats:
    department: str
    count: int
    open: int
    resolved: int
    mean_resolve: timedelta | None


@dataclass(frozen=True)
class Statistics:
    count: int
    open: int
    escalated: int
    by_state: Mapping[str, int]
    mean_acknowledge: timedelta | None
    mean_resolve: timedelta | None
    by_department: tuple[DepartmentStats, ...]


def _mean(values: Sequence[timedelta]) -> timedelta | None:
    return sum(values, timedelta()) / len(values) if values else None


def statistics(events: pd.DataFrame, records: Mapping[str, Record], departments: Mapping[str, str]) -> Statistics:
    """Counts, mean time to acknowledge and to resolve, and the same per department.

    An event's department is the one it was dispatched to, else its rule's responsible one (``departments``:
    rule id → department).
    """
    by_dept: dict[str, list[tuple[str, Record]]] = {}
    acks, fixes = [], []
    for eid, state, rule in zip(events["event_id"], events["state"], events["rule_id"], strict=True):
        rec = records.get(eid) or Record(eid, state)
        dept = rec.department or departments.get(rule, "—")
        by_dept.setdefault(dept, []).append((state, rec))
        if (a := rec.time_to("acknowledged")) is not None:
            acks.append(a)
        if (r := rec.time_to("resolved")) is not None:
            fixes.append(r)
    per = tuple(
        DepartmentStats(
            dept,
            len(items),
            sum(s in OPEN_STATES for s, _ in items),
            sum(s in ("resolved", "closed") for s, _ in items),
            _mean([d for _, rec in items if (d := rec.time_to("resolved")) is not None]),
        )
        for dept, items in sorted(by_dept.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    )
    states = events["state"].value_counts()
    return Statistics(
        count=len(events),
        open=int(events["state"].isin(OPEN_STATES).sum()),
        escalated=sum(1 for eid in events["event_id"] if eid in records and records[eid].escalations > 0),
        by_state={str(k): int(v) for k, v in states.items()},
        mean_acknowledge=_mean(acks),
        mean_resolve=_mean(fixes),
        by_department=per,
    )


def fmt_duration(d: timedelta | None, lang: str) -> str:
    """``1小时5分`` / ``1 h 5 min``; ``—`` for none."""
    if d is None:
        return "—"
    minutes = round(d.total_seconds() / 60)
    h, m = divmod(minutes, 60)
    if lang == "en":
        return f"{h} h {m} min" if h else f"{m} min"
    return f"{h}小时{m}分" if h else f"{m}分钟"
