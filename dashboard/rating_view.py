"""星级评估: what the star-rating scene shows, computed from the catalogue, the values and the task reports.

Values come from department entry (the ``rating_values`` feed) except where a setting says another scene's feeds
supply one (``rating.derived``): those are computed now, from the same feeds and functions those scenes use, and
count for the current quarter. Everything except :func:`compute_view` and :func:`derived_values` is pure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import pandas as pd

from dashboard.domain import rating
from dashboard.domain.rating import Evaluation, Plan, Rules
from dashboard.i18n import t
from dashboard.live import Failed, Live, Rows
from dashboard.scope import DISTRICT
from dashboard.settings import RatingSettings, Settings
from dashboard.timeutil import TZ

if TYPE_CHECKING:
    from dashboard.services import Services

log = logging.getLogger(__name__)
#: An air station counts as monitoring when it reported within this long.
MONITORING_WITHIN = timedelta(hours=2)


@dataclass(frozen=True)
class Derived:
    """A value computed from another scene's feeds."""

    indicator_id: str
    source: str  # the scene id
    value: float
    data_time: datetime | None


@dataclass(frozen=True)
class TaskRow:
    task_id: str
    title: str
    department: str
    due: date
    status: str
    percent: float
    expected: float | None
    overdue: bool
    lagging: bool
    note: str
    evidence: str
    reported_at: datetime
    reports: int


@dataclass(frozen=True)
class DepartmentTasks:
    department: str
    tasks: int
    done: int
    overdue: int
    lagging: int


@dataclass(frozen=True)
class RatingView:
    now: datetime
    evaluation: Evaluation | Failed
    derived: tuple[Derived, ...]
    tasks: tuple[TaskRow, ...] | Failed
    departments: tuple[DepartmentTasks, ...]


# ---- rules and values -----------------------------------------------------------------------------------


def rules_of(settings: RatingSettings) -> Rules:
    """The domain's combination rules from the settings."""
    return Rules(
        bonus_cap=settings.bonus_cap,
        bonus_mode=settings.bonus_mode,
        bonus_per_star=settings.bonus_per_star,
        mandatory_rule=settings.mandatory_rule,
        mandatory_slack=settings.mandatory_slack,
        stale_quarters=settings.stale_quarters,
    )


def costs_of(settings: RatingSettings) -> dict[str, rating.StepCost]:
    """The planner's step costs: the configured ones over the default."""
    return {rating.DEFAULT_COST: settings.step_cost, **settings.costs}


def with_derived(values: pd.DataFrame, derived: tuple[Derived, ...], now: datetime) -> pd.DataFrame:
    """``values`` plus the derived ones as the current quarter's (they replace an entry for that quarter)."""
    if not derived:
        return values
    period = rating.period_of(now)
    rows = pd.DataFrame(
        {
            "indicator_id": [d.indicator_id for d in derived],
            "period": period,
            "value": [d.value for d in derived],
            "evidence": [f"自动采集 · {t(f'scene.{d.source}', 'zh-CN')}" for d in derived],
            "reported_by": "山亭大脑",
        }
    )
    keep = ~(values["indicator_id"].isin(rows["indicator_id"]) & (values["period"] == period))
    return pd.concat([values.loc[keep], rows], ignore_index=True)


RULE_FIELDS = ("bonus_cap", "bonus_mode", "bonus_per_star", "mandatory_rule", "mandatory_slack", "stale_quarters")


def tile_frames(
    live: Live, settings: Settings, frames: Mapping[str, pd.DataFrame], now: datetime
) -> dict[str, pd.DataFrame]:
    """The overview star tile's inputs as the scene sees them: derived values added, the rules as one row."""
    ids = set(frames["rating_indicators"]["indicator_id"])
    derived = derived_values(live, settings, now, ids)
    return {
        "rating_values": with_derived(frames["rating_values"], derived, now),
        "rating_rules": pd.DataFrame([settings.rating.model_dump(include=set(RULE_FIELDS))]),
    }


# ---- tasks ----------------------------------------------------------------------------------------------


def task_rows(reports: pd.DataFrame, now: datetime, lag_points: float) -> tuple[TaskRow, ...]:
    """Each task's latest report, overdue (due passed, not done) and lagging (percent trails the time gone by
    more than ``lag_points``; the time runs from its first report to its due date). Worst first."""
    if reports.empty:
        return ()
    today = now.astimezone(TZ).date()
    rows = []
    for task_id, group in reports.sort_values("reported_at").groupby("task_id", sort=False):
        last, first = group.iloc[-1], group["reported_at"].iloc[0]
        due = pd.Timestamp(last["due"]).date()
        done = last["status"] == "done"
        expected = _expected(first.astimezone(TZ).date(), due, today)
        lagging = not done and expected is not None and float(last["percent"]) < expected - lag_points
        rows.append(
            TaskRow(
                str(task_id),
                str(last["title"]),
                str(last["department"]),
                due,
                str(last["status"]),
                float(last["percent"]),
                expected,
                not done and due < today,
                lagging,
                _text(last.get("note")),
                _text(last.get("evidence")),
                last["reported_at"].to_pydatetime(),
                len(group),
            )
        )
    return tuple(sorted(rows, key=lambda r: (not r.overdue, not r.lagging, r.status == "done", r.due, r.task_id)))


def _expected(start: date, due: date, today: date) -> float | None:
    span = (due - start).days
    if span <= 0:
        return None
    return max(0.0, min(100.0, 100 * (today - start).days / span))


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def department_tasks(rows: tuple[TaskRow, ...]) -> tuple[DepartmentTasks, ...]:
    """Per department: tasks, done, overdue, lagging; the most overdue first."""
    out: dict[str, list[TaskRow]] = {}
    for r in rows:
        out.setdefault(r.department, []).append(r)
    summary = [
        DepartmentTasks(
            d, len(rs), sum(r.status == "done" for r in rs), sum(r.overdue for r in rs), sum(r.lagging for r in rs)
        )
        for d, rs in out.items()
    ]
    return tuple(sorted(summary, key=lambda s: (-s.overdue, -s.lagging, s.department)))


def latest_tasks(reports: pd.DataFrame) -> pd.DataFrame:
    """Each task's newest report (what an upload is checked against)."""
    if reports.empty:
        return reports
    return reports.sort_values("reported_at").groupby("task_id", sort=False).tail(1)


# ---- the tree -------------------------------------------------------------------------------------------


def domain_stars(evaluation: Evaluation) -> dict[str, float]:
    """Each domain's weighted mean star, in the standard's order."""
    out = {}
    for domain in rating.DOMAINS:
        rs = [r for r in evaluation.results if r.indicator.domain == domain]
        weight = sum(r.indicator.weight for r in rs)
        if rs:
            out[domain] = sum(r.star * r.indicator.weight for r in rs) / weight if weight else 0.0
    return out


def department_results(evaluation: Evaluation, department: str) -> tuple[rating.IndicatorResult, ...]:
    return tuple(r for r in evaluation.results if r.indicator.department == department)


def plan_for(view: RatingView, settings: RatingSettings, target: int) -> Plan | Failed:
    """The cheapest plan to ``target`` under the configured costs, or why there is none."""
    if isinstance(view.evaluation, Failed):
        return view.evaluation
    try:
        return rating.plan(view.evaluation, target, costs_of(settings))
    except ValueError as exc:
        return Failed("rating_indicators", str(exc))


# ---- values from other scenes ---------------------------------------------------------------------------


def _frames(live: Live, feeds: tuple[str, ...]) -> dict[str, pd.DataFrame] | None:
    got = {f: live.rows(f) for f in feeds}
    if any(isinstance(g, Failed) for g in got.values()):
        return None
    return {f: g.frame for f, g in got.items() if isinstance(g, Rows)}


def bus_prediction(live: Live, settings: Settings, now: datetime) -> tuple[float, datetime | None] | None:
    """公共交通来车实时预报率: the transport scene's share of stops with a fresh approaching vehicle (%)."""
    from dashboard.transport_view import bus_panel, lines_in_scope, screener

    f, areas = _frames(live, ("bus_positions", "bus_lines", "bus_stops")), live.areas()
    if f is None or isinstance(areas, Failed):
        return None
    lines = lines_in_scope(f["bus_lines"], f["bus_stops"], DISTRICT, areas)
    district = areas.outline
    screen = screener(live, "all")  # the transport scene's district screening of the same pings
    panel = bus_panel(f["bus_positions"], f["bus_lines"], lines, f["bus_stops"], district, DISTRICT, now, 0, screen)
    cover = panel.total.coverage
    if cover is None or not _fresh("bus_positions", panel.data_time, settings, now):
        return None  # no buses running or a stale feed: not a measurement of the indicator
    return 100 * cover, panel.data_time


def key_place_coverage(live: Live, settings: Settings, now: datetime) -> tuple[float, datetime | None] | None:
    """公共安全视频资源采集和覆盖: the video scene's key places covered by a working camera (%)."""
    from dashboard.video_view import place_coverage

    f = _frames(live, ("cameras", "key_places"))
    if f is None or f["key_places"].empty:
        return None
    if f["cameras"].empty:
        return None
    covered = place_coverage(f["key_places"], f["cameras"], settings.video.radius_m)
    return 100 * float(covered["covered"].mean()), None


def air_monitoring(live: Live, settings: Settings, now: datetime) -> tuple[float, datetime | None] | None:
    """环境质量监测水平: air stations (district and every 镇街) reporting within two hours (%)."""
    f = _frames(live, ("air_stations", "air_readings"))
    if f is None or f["air_stations"].empty:
        return None
    recent = f["air_readings"].loc[f["air_readings"]["ts"] >= now - MONITORING_WITHIN]
    if recent.empty:
        return None  # the feed stopped, not every station: leave it to the department's entry
    share = f["air_stations"]["station_id"].isin(recent["station_id"]).mean()
    return 100 * float(share), recent["ts"].max().to_pydatetime()


def _fresh(feed: str, data_time: datetime | None, settings: Settings, now: datetime) -> bool:
    """Whether data of ``data_time`` is within the feed's staleness limit."""
    from dashboard.health import freshness_limit

    limit = freshness_limit(feed, settings)
    return data_time is not None and (limit is None or now - data_time <= limit)


DERIVATIONS: dict[str, Callable[[Live, Settings, datetime], tuple[float, datetime | None] | None]] = {
    "bus_prediction": bus_prediction,
    "key_place_coverage": key_place_coverage,
    "air_monitoring": air_monitoring,
}
#: The scene whose feeds each derivation reads (its title names the source on screen).
SOURCES = {"bus_prediction": "transport", "key_place_coverage": "video", "air_monitoring": "environment"}


def derived_values(live: Live, settings: Settings, now: datetime, ids: set[str]) -> tuple[Derived, ...]:
    """The configured derived values of indicators in the catalogue; one that cannot be computed is skipped
    (the department's entry then counts), never guessed."""
    out = []
    for indicator_id, name in settings.rating.derived.items():
        if indicator_id not in ids:
            continue
        derive = DERIVATIONS.get(name)
        if derive is None:
            log.warning("rating.derived: unknown derivation %r (known: %s)", name, ", ".join(DERIVATIONS))
            continue
        try:
            got = derive(live, settings, now)
        except (ValueError, KeyError) as exc:
            log.warning("rating: %s failed: %s", name, exc)
            continue
        if got is not None:
            out.append(Derived(indicator_id, SOURCES[name], round(got[0], 2), got[1]))
    return tuple(out)


def compute_view(live: Live, settings: Settings, now: datetime) -> RatingView:
    """The scene: the evaluation (department values plus derived ones) and the task table."""
    rules = rules_of(settings.rating)
    frames = _frames(live, ("rating_indicators", "rating_values"))
    derived: tuple[Derived, ...] = ()
    evaluation: Evaluation | Failed
    if frames is None:
        evaluation = Failed("rating_values", "指标目录或取值不可用")
    else:
        try:
            ids = set(frames["rating_indicators"]["indicator_id"])
            derived = derived_values(live, settings, now, ids)
            values = with_derived(frames["rating_values"], derived, now)
            evaluation = rating.evaluate(frames["rating_indicators"], values, rules, rating.period_of(now))
        except ValueError as exc:
            evaluation = Failed("rating_indicators", str(exc)[:300])
    reports = live.rows("rating_tasks")
    tasks = reports if isinstance(reports, Failed) else task_rows(reports.frame, now, settings.rating.lag_points)
    departments = () if isinstance(tasks, Failed) else department_tasks(tasks)
    return RatingView(now, evaluation, derived, tasks, departments)


def scene(services: Services) -> RatingView:
    """The scene's view, computed at most once per refresh interval for every screen and export."""
    return services._memo(  # type: ignore[no-any-return]
        "rating", lambda: compute_view(services.live, services.settings, services.now())
    )


#: The indicator table's columns, (zh-CN, en).
INDICATOR_COLUMNS = (
    ("领域", "domain"),
    ("编号", "id"),
    ("指标", "indicator"),
    ("单位", "unit"),
    ("当前值", "value"),
    ("期次", "period"),
    ("星级", "star"),
    ("下一星", "next star"),
    ("门槛", "threshold"),
    ("差距", "gap"),
    ("权重", "weight"),
    ("必达项", "mandatory"),
    ("责任部门", "department"),
    ("状态", "state"),
)


def indicator_table(evaluation: Evaluation, lang: str, department: str | None = None) -> pd.DataFrame:
    """The evaluation as a table to take away: the district's composite first, then each indicator (of
    ``department`` when named) with its value, star, next star and gap, weight, and the department answering."""
    zh = lang == "zh-CN"
    columns = [zh_name if zh else en_name for zh_name, en_name in INDICATOR_COLUMNS]
    total = ["", "", "综合得分" if zh else "composite", "", round(evaluation.composite, 4), evaluation.period,
             evaluation.star, None, None, evaluation.composite_gap, None, None, "", ""]  # fmt: skip
    rows = [
        [
            r.indicator.domain,
            r.indicator.id,
            r.indicator.name,
            r.indicator.unit,
            r.value,
            r.period,
            r.star,
            r.next_star,
            r.next_threshold,
            None if r.gap is None else round(r.gap, 4),  # a difference of decimals: 0.11, not 0.10999999999999943
            r.indicator.weight,
            ("是" if zh else "yes") if r.indicator.mandatory else "",
            r.indicator.department,
            _state(r, lang),
        ]
        for r in evaluation.results
        if department is None or r.indicator.department == department
    ]
    return pd.DataFrame([total, *rows] if department is None else rows, columns=columns)


def _state(result: rating.IndicatorResult, lang: str) -> str:
    zh = lang == "zh-CN"
    if result.value is None:
        return "未填报" if zh else "missing"
    if result.stale:
        return "过期" if zh else "stale"
    if not result.evidence:
        return "无佐证" if zh else "no evidence"
    return ""


def departments_of(evaluation: Evaluation) -> Mapping[str, int]:
    """Each responsible department and how many indicators it owns."""
    out: dict[str, int] = {}
    for r in evaluation.results:
        out[r.indicator.department] = out.get(r.indicator.department, 0) + 1
    return out
