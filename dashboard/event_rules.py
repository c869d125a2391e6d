"""The rule catalogue (``dashboard/rules.toml`` plus a deployment's file) and the metrics its rules watch.

A metric turns the store's recent rows into :class:`~dashboard.domain.rules.Subject` series (per air station, per
镇街, per feed…); the pure engine in :mod:`dashboard.domain.rules` does the rest. The loader checks every rule
against the metrics known here, so a typo fails at start with the rule's id, not silently at 3 a.m.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from pydantic import TypeAdapter, ValidationError

from dashboard.domain import video, water
from dashboard.domain.rules import Rule, Sample, Subject
from dashboard.health import freshness_limit, off_hours
from dashboard.settings import Settings
from datasources.contracts import CONTRACTS

RULES_FILE = Path(__file__).with_name("rules.toml")
H = timedelta(hours=1)
EVALUATORS = ("engine", "environment", "tourism")
DOMAINS = ("transport", "video", "environment", "tourism", "rating", "system")


class Reader(Protocol):
    """What metrics read: a feed's rows since a time (all rows for reference data) and its newest time."""

    def frame(self, feed: str, since: datetime | None = None) -> pd.DataFrame: ...

    def latest(self, feed: str) -> datetime | None: ...


Metric = Callable[[Reader, Settings, datetime], list[Subject]]


# ---- metrics ----------------------------------------------------------------------------------------


def _place(row: Any) -> dict[str, Any]:
    return {"lon": float(row.lon), "lat": float(row.lat), "town_code": str(getattr(row, "town_code", "") or "") or None}


def aqi_hourly(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """Per air station: the real-time AQI of each of the last 12 hours (HJ 633)."""
    from dashboard.environment import hourly_aqi_frame

    hourly = hourly_aqi_frame(read.frame("air_readings", now - 13 * H), now - 12 * H, now)
    out = []
    for s in read.frame("air_stations").itertuples(index=False):
        mine = hourly.loc[hourly["station_id"] == s.station_id]
        samples = tuple(Sample(h.to_pydatetime(), float(a)) for h, a in zip(mine["hour"], mine["aqi"], strict=True))
        out.append(Subject(str(s.station_id), str(s.name), samples, **_place(s)))
    return out


def water_class_gap(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """Per water section: each sample's GB 3838 class minus the section's target class (> 0: worse than target)."""
    samples = read.frame("water_samples", now - 3 * 24 * H)
    out = []
    for s in read.frame("water_sections").itertuples(index=False):
        mine = samples.loc[samples["section_id"] == s.section_id].sort_values("ts")
        series = []
        for row in mine.itertuples(index=False):
            values = {i: float(getattr(row, i)) for i in water.ITEMS if pd.notna(getattr(row, i, None))}
            if values:
                grade = water.water_class(values, waterbody=str(s.waterbody)).grade
                series.append(Sample(row.ts.to_pydatetime(), float(grade - int(s.target_class))))
        out.append(Subject(str(s.section_id), str(s.name), tuple(series), **_place(s)))
    return out


def reservoir_over_flood_limit(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """Per reservoir with a published flood-limit level (汛限水位): level minus that level, metres."""
    levels = read.frame("reservoir_levels", now - 6 * H)
    out = []
    for r in read.frame("reservoirs").itertuples(index=False):
        limit = getattr(r, "flood_limit_m", None)
        if limit is None or pd.isna(limit):
            continue
        mine = levels.loc[levels["reservoir_id"] == r.reservoir_id]
        series = tuple(
            Sample(t.to_pydatetime(), float(v) - float(limit)) for t, v in zip(mine["ts"], mine["level_m"], strict=True)
        )
        out.append(Subject(str(r.reservoir_id), str(r.name), series, **_place(r)))
    return out


def radiation_ratio(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """Per radiation station with a baseline: dose rate over the station's own baseline."""
    readings = read.frame("radiation_readings", now - 6 * H)
    out = []
    for s in read.frame("radiation_stations").itertuples(index=False):
        base = getattr(s, "baseline_ngy_h", None)
        if base is None or pd.isna(base) or not base:
            continue
        mine = readings.loc[readings["station_id"] == s.station_id]
        series = tuple(
            Sample(t.to_pydatetime(), float(v) / float(base))
            for t, v in zip(mine["ts"], mine["dose_ngy_h"], strict=True)
        )
        out.append(Subject(str(s.station_id), str(s.name), series, **_place(s)))
    return out


def camera_working_rate(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """Per 镇街: the share of its cameras online and usable now (完好率)."""
    cameras = read.frame("cameras")
    towns = read.frame("towns")
    if cameras.empty:
        return []
    rates = video.health_by(cameras, "town_code").dropna(subset=["town_code"]).set_index("town_code")
    centre = cameras.groupby("town_code")[["lon", "lat"]].mean()
    names = dict(zip(towns["town_code"], towns["name"], strict=True)) if len(towns) else {}
    return [
        Subject(
            str(code),
            str(names.get(code, code)),
            (Sample(now, float(rates.at[code, "working_rate"])),),
            float(centre.at[code, "lon"]),
            float(centre.at[code, "lat"]),
            str(code),
        )
        for code in rates.index
    ]


def tpi(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """The district's traffic index every 5 minutes over the last half hour (参照 GB/T 33171)."""
    from dashboard.kpis import _tpi_at

    speeds = read.frame("segment_speeds", now - H)
    segments = read.frame("road_segments")
    if speeds.empty or segments.empty:
        return []
    samples = []
    for k in range(6, -1, -1):
        at = now - k * timedelta(minutes=5)
        value = _tpi_at(speeds.loc[speeds["ts"] <= pd.Timestamp(at)], segments, at, timedelta(minutes=10))
        if value is not None:
            samples.append(Sample(at, float(value)))
    return [Subject("district", "山亭区", tuple(samples))]


def feed_age_ratio(read: Reader, settings: Settings, now: datetime) -> list[Subject]:
    """Per series feed: age of its newest row over its freshness limit, now and 5 and 10 minutes ago.

    Outside a feed's active hours (buses at night) the ratio is 0: silence is expected then.
    """
    out = []
    for feed, spec in CONTRACTS.items():
        limit = freshness_limit(feed, settings)
        if limit is None or spec.name == "events":
            continue
        last = read.latest(feed)
        samples = []
        for k in (10, 5, 0):
            at = now - k * timedelta(minutes=1)
            idle = off_hours(spec.active_hours, at)
            age = math.inf if last is None else max(0.0, (at - last).total_seconds())
            samples.append(Sample(at, 0.0 if idle else age / limit.total_seconds()))
        out.append(Subject(feed, spec.title_zh, tuple(samples)))
    return out


METRICS: Mapping[str, Metric] = {
    "aqi_hourly": aqi_hourly,
    "water_class_gap": water_class_gap,
    "reservoir_over_flood_limit": reservoir_over_flood_limit,
    "radiation_ratio": radiation_ratio,
    "camera_working_rate": camera_working_rate,
    "tpi": tpi,
    "feed_age_ratio": feed_age_ratio,
}


# ---- the catalogue ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalogue:
    rules: tuple[Rule, ...]

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def enabled(self, rule_id: str) -> bool:
        """Whether the rule is in the catalogue and switched on (a scene runs its own rule only then)."""
        rule = self.get(rule_id)
        return rule is not None and rule.enabled

    def engine_rules(self) -> tuple[Rule, ...]:
        return tuple(r for r in self.rules if r.enabled and r.evaluator == "engine")


_RULE = TypeAdapter(Rule)
_KEYS = {f.name for f in fields(Rule)}


def parse_rules(entries: list[dict[str, Any]], origin: str) -> tuple[Rule, ...]:
    """Rules from TOML ``[[rule]]`` tables; raises ValueError naming the rule and every problem."""
    rules = []
    for entry in entries:
        rid = entry.get("id")
        problems = [f"unknown key {k!r}" for k in sorted(set(entry) - _KEYS)]
        if entry.get("evaluator", "engine") not in EVALUATORS:
            problems.append(f"evaluator must be one of {', '.join(EVALUATORS)}")
        if entry.get("evaluator", "engine") == "engine" and entry.get("metric") not in METRICS:
            problems.append(f"unknown metric {entry.get('metric')!r} (known: {', '.join(METRICS)})")
        if entry.get("domain") not in DOMAINS:
            problems.append(f"domain must be one of {', '.join(DOMAINS)}")
        if not problems:
            try:
                rules.append(_RULE.validate_python({**entry, "procedure": tuple(entry.get("procedure", ()))}))
            except ValidationError as exc:
                problems += [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        if problems:
            raise ValueError(f"{origin}: rule {rid}: " + "; ".join(problems))
    ids = [r.id for r in rules]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{origin}: duplicate rule ids")
    return tuple(rules)


def load_catalogue(settings: Settings | None = None, path: Path = RULES_FILE) -> Catalogue:
    """The shipped rules, then the deployment's file (same id: replaced), minus the disabled ones."""
    rules = {r.id: r for r in _read(path)}
    cfg = settings.events if settings else None
    if cfg and cfg.rules_file:
        rules |= {r.id: r for r in _read(cfg.rules_file)}
    if cfg:
        unknown = sorted(set(cfg.disabled) - set(rules))
        if unknown:
            raise ValueError(f"events.disabled names unknown rules: {', '.join(unknown)}")
        rules = {k: r for k, r in rules.items() if k not in cfg.disabled}
    return Catalogue(tuple(rules.values()))


def _read(path: Path) -> tuple[Rule, ...]:
    try:
        with Path(path).open("rb") as fh:
            return parse_rules(tomllib.load(fh).get("rule", []), str(path))
    except FileNotFoundError:
        raise ValueError(f"rules file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None


CATALOGUE = load_catalogue()
