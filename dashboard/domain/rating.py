"""DB37/T 3890.2 star rating: indicator stars, the composite, the gap and the cheapest plan (REFERENCE.md §7).

The standard gives every indicator its own 1–5 star criteria; the rule that
combines them into the county's star is not public, so the combination here
is OUR ASSUMPTION, every part of it a field of :class:`Rules`:

- an indicator's star is the highest star whose threshold its value meets
  (``higher``: value ≥ threshold; ``lower``: value ≤ threshold), 0 below star 1
  or without a value;
- the composite is the weighted mean of the core indicators' stars (every
  domain but the bonus domain 地方特色) plus a bonus from the 地方特色 items,
  never more than ``bonus_cap``;
- the district's star is the composite rounded down; with ``mandatory_rule``
  on it is at most (the lowest mandatory indicator's star + ``mandatory_slack``).

:func:`plan` finds the cheapest set of indicator steps reaching a target star
exactly: a dynamic programme over integer "star points" (a multiple-choice
knapsack), separately for the core and the bonus items, combined at the end.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from functools import reduce
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd

BONUS_DOMAIN = "地方特色"
DOMAINS = ("数字惠民", "数字政府", "数字经济", "基础设施", "保障措施", "地方特色")
STAR_COLUMNS = tuple(f"star{i}" for i in range(1, 6))
MAX_STAR = 5
#: Composite values this close below a whole star count as reaching it (float noise of the weighted mean).
EPS = 1e-9
#: The planner refuses a catalogue whose weights need more integer "points" than this (it would be slow).
MAX_POINTS = 200_000
Direction = Literal["higher", "lower"]


# ---- inputs ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One catalogue row: thresholds[k-1] is the value star k needs (None: the star is not defined)."""

    id: str
    domain: str
    name: str
    unit: str
    direction: Direction
    thresholds: tuple[float | None, ...]
    weight: float
    mandatory: bool
    department: str
    evidence: str = ""
    sample: bool = False

    @property
    def bonus(self) -> bool:
        return self.domain == BONUS_DOMAIN


@dataclass(frozen=True)
class Rules:
    """How indicator stars combine into the district's star (all assumptions, all configurable)."""

    bonus_cap: float = 0.5
    #: ``mean``: weighted mean bonus star / 5 × cap; ``sum``: per_star × Σ weight × star, capped.
    bonus_mode: Literal["mean", "sum"] = "mean"
    bonus_per_star: float = 0.05
    mandatory_rule: bool = True
    #: With the rule on, the district star is at most the lowest mandatory star + this.
    mandatory_slack: int = 0
    #: A value older than this many quarters before the period evaluated is stale (still counted, flagged).
    stale_quarters: int = 2

    def __post_init__(self) -> None:
        if self.bonus_cap < 0 or self.bonus_per_star < 0:
            raise ValueError("bonus_cap and bonus_per_star must not be negative")
        if self.bonus_mode not in ("mean", "sum"):
            raise ValueError(f"bonus_mode must be 'mean' or 'sum', not {self.bonus_mode!r}")
        if not 0 <= self.mandatory_slack <= MAX_STAR or self.stale_quarters < 0:
            raise ValueError("mandatory_slack must be 0–5 and stale_quarters ≥ 0")


# ---- results --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorResult:
    """An indicator's standing: its latest value, star, and the distance to its next star in its own unit."""

    indicator: Indicator
    value: float | None
    period: str | None
    star: int
    stale: bool
    #: The next star with a threshold (None at the top); its threshold; |threshold − value| still to go.
    next_star: int | None
    next_threshold: float | None
    gap: float | None
    evidence: str = ""


@dataclass(frozen=True)
class Evaluation:
    composite: float
    star: int
    core: float
    bonus: float
    results: tuple[IndicatorResult, ...]
    rules: Rules
    period: str | None
    #: Composite points still needed for the next whole star (0 when only the mandatory rule holds it back).
    composite_gap: float | None
    #: Mandatory indicators holding the district below its composite's star.
    held_by: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    #: Indicators with a value but no evidence behind it (the standard asks for 佐证材料).
    undocumented: tuple[str, ...] = ()
    sample: bool = False
    stars: Mapping[str, int] = field(default_factory=dict, hash=False)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(r.indicator for r in self.results)


@dataclass(frozen=True)
class Step:
    """Raise one indicator from its star to a higher one: the value it needs and what it costs."""

    indicator_id: str
    name: str
    department: str
    unit: str
    from_star: int
    to_star: int
    value: float | None
    needed: float | None
    cost: float


@dataclass(frozen=True)
class Plan:
    target: int
    feasible: bool
    cost: float
    steps: tuple[Step, ...]
    composite_after: float
    star_after: int
    reason: str = ""

    def by_department(self) -> dict[str, tuple[Step, ...]]:
        """The steps grouped by responsible department, the costliest department first."""
        groups: dict[str, list[Step]] = defaultdict(list)
        for step in self.steps:
            groups[step.department].append(step)
        order = sorted(groups, key=lambda d: (-sum(s.cost for s in groups[d]), d))
        return {d: tuple(groups[d]) for d in order}


# ---- stars ----------------------------------------------------------------------------------------------


def _blank(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def indicator_star(value: float | None, thresholds: Sequence[float | None], direction: str) -> int:
    """The highest star (1–5) whose threshold ``value`` meets; 0 if none or no value."""
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
    if _blank(value):
        return 0
    assert value is not None
    star = 0
    for i, limit in enumerate(thresholds, start=1):
        if _blank(limit):
            continue
        assert limit is not None
        if (value >= limit) if direction == "higher" else (value <= limit):
            star = i
    return star


def next_target(ind: Indicator, star: int) -> tuple[int | None, float | None]:
    """The next star above ``star`` that has a threshold, and that threshold."""
    for k in range(star + 1, MAX_STAR + 1):
        limit = ind.thresholds[k - 1]
        if not _blank(limit):
            return k, limit
    return None, None


def gap_to(ind: Indicator, value: float | None, threshold: float | None) -> float | None:
    """How far ``value`` is from ``threshold`` in the indicator's unit (never negative); None without both."""
    if _blank(value) or threshold is None:
        return None
    assert value is not None
    return max(0.0, threshold - value if ind.direction == "higher" else value - threshold)


def composite_of(stars: Mapping[str, int], indicators: Sequence[Indicator], rules: Rules) -> tuple[float, float]:
    """(core weighted mean, capped bonus) of the given stars; an indicator absent from ``stars`` counts 0."""
    core = [i for i in indicators if not i.bonus]
    extra = [i for i in indicators if i.bonus]
    weight = sum(i.weight for i in core)
    mean = sum(i.weight * stars.get(i.id, 0) for i in core) / weight if weight > 0 else 0.0
    points = sum(i.weight * stars.get(i.id, 0) for i in extra)
    if rules.bonus_mode == "sum":
        bonus = rules.bonus_per_star * points
    else:
        bweight = sum(i.weight for i in extra)
        bonus = points / bweight / MAX_STAR * rules.bonus_cap if bweight > 0 else 0.0
    return mean, min(bonus, rules.bonus_cap)


def district_star(
    composite: float, stars: Mapping[str, int], indicators: Sequence[Indicator], rules: Rules
) -> tuple[int, tuple[str, ...]]:
    """The district's star and the mandatory indicators holding it below its composite's star."""
    star = max(0, min(MAX_STAR, math.floor(composite + EPS)))
    if not rules.mandatory_rule:
        return star, ()
    mandatory = [i for i in indicators if i.mandatory and not i.bonus]
    if not mandatory:
        return star, ()
    cap = min(stars.get(i.id, 0) for i in mandatory) + rules.mandatory_slack
    held = tuple(i.id for i in mandatory if stars.get(i.id, 0) + rules.mandatory_slack < star)
    return min(star, cap), held


# ---- evaluation -----------------------------------------------------------------------------------------


def catalogue_indicators(catalogue: pd.DataFrame) -> tuple[Indicator, ...]:
    """The catalogue frame (the ``rating_indicators`` feed) as indicators; ValueError names a bad row."""
    if catalogue.empty:
        raise ValueError("the indicator catalogue is empty")
    out = []
    for n, row in enumerate(catalogue.to_dict("records"), start=1):
        direction = str(row["direction"])
        if direction not in ("higher", "lower"):
            raise ValueError(f"indicator {row['indicator_id']} (row {n}): direction {direction!r}")
        out.append(
            Indicator(
                id=str(row["indicator_id"]),
                domain=str(row["domain"]),
                name=str(row["name"]),
                unit="" if _blank(row.get("unit")) else str(row["unit"]),
                direction=direction,  # type: ignore[arg-type]
                thresholds=tuple(None if _blank(row.get(c)) else float(row[c]) for c in STAR_COLUMNS),
                weight=float(row["weight"]),
                mandatory=bool(row["mandatory"]),
                department=str(row["department"]),
                evidence="" if _blank(row.get("evidence")) else str(row["evidence"]),
                sample=bool(row.get("sample")) if not _blank(row.get("sample")) else False,
            )
        )
    return tuple(out)


def quarter_index(period: str) -> int:
    """'2026Q3' → year × 4 + quarter − 1 (so consecutive quarters differ by 1)."""
    year, q = period.upper().split("Q")
    return int(year) * 4 + int(q) - 1


def period_of(at: datetime) -> str:
    """The quarter (Asia/Shanghai) ``at`` falls in, as '2026Q4'."""
    local = at.astimezone(ZoneInfo("Asia/Shanghai"))
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def latest_values(values: pd.DataFrame) -> dict[str, dict[str, object]]:
    """Per indicator its newest period's row (value, period, evidence)."""
    if values.empty:
        return {}
    frame = values.assign(_q=values["period"].map(quarter_index)).sort_values("_q", kind="stable")
    last = frame.groupby("indicator_id", sort=False).tail(1)
    return {str(r["indicator_id"]): r for r in last.to_dict("records")}


def _result(ind: Indicator, row: Mapping[str, object] | None, period: str | None, rules: Rules) -> IndicatorResult:
    value = None if row is None or _blank(row.get("value")) else float(row["value"])  # type: ignore[arg-type]
    star = indicator_star(value, ind.thresholds, ind.direction)
    got = None if row is None else str(row["period"])
    stale = bool(got and period and quarter_index(period) - quarter_index(got) > rules.stale_quarters)
    nxt, limit = next_target(ind, star)
    evidence = "" if row is None or _blank(row.get("evidence")) else str(row.get("evidence"))
    return IndicatorResult(ind, value, got, star, stale, nxt, limit, gap_to(ind, value, limit), evidence)


def evaluate(
    catalogue: pd.DataFrame | Sequence[Indicator],
    values: pd.DataFrame,
    rules: Rules | None = None,
    period: str | None = None,
) -> Evaluation:
    """Each indicator's star from its latest value, the composite, the district star and the gaps.

    ``catalogue``: the ``rating_indicators`` feed (or indicators); ``values``: rows of indicator_id, period,
    value (and evidence); ``period``: the quarter evaluated (default: the newest in ``values``), which decides
    what is stale.
    """
    rules = rules or Rules()
    indicators = catalogue_indicators(catalogue) if isinstance(catalogue, pd.DataFrame) else tuple(catalogue)
    latest = latest_values(values)
    if period is None and latest:
        period = max((str(r["period"]) for r in latest.values()), key=quarter_index)
    results = tuple(_result(i, latest.get(i.id), period, rules) for i in indicators)
    stars = {r.indicator.id: r.star for r in results}
    core, bonus = composite_of(stars, indicators, rules)
    composite = core + bonus
    star, held = district_star(composite, stars, indicators, rules)
    gap = None if star >= MAX_STAR else max(0.0, star + 1 - composite)
    return Evaluation(
        composite=composite,
        star=star,
        core=core,
        bonus=bonus,
        results=results,
        rules=rules,
        period=period,
        composite_gap=gap,
        held_by=held,
        missing=tuple(r.indicator.id for r in results if r.value is None),
        stale=tuple(r.indicator.id for r in results if r.stale),
        undocumented=tuple(r.indicator.id for r in results if r.value is not None and not r.evidence.strip()),
        sample=any(i.sample for i in indicators),
        stars=stars,
    )


# ---- the planner ----------------------------------------------------------------------------------------

#: Cost of one indicator step: a number (every step) or five numbers (the step reaching star 1…5).
StepCost = float | Sequence[float]
#: The key of ``costs`` whose value applies to indicators not named.
DEFAULT_COST = "*"


def step_cost(costs: Mapping[str, StepCost], indicator_id: str, to_star: int) -> float:
    """What the step reaching ``to_star`` costs for this indicator (``costs['*']`` or 1 when not named)."""
    spec = costs.get(indicator_id, costs.get(DEFAULT_COST, 1.0))
    if isinstance(spec, int | float):
        cost = float(spec)
    else:
        if len(spec) != MAX_STAR:
            raise ValueError(f"costs of {indicator_id}: five step costs (to star 1…5), not {len(spec)}")
        cost = float(spec[to_star - 1])
    if cost < 0 or math.isnan(cost):
        raise ValueError(f"costs of {indicator_id}: a step cannot cost {cost}")
    return cost


def _options(r: IndicatorResult, floor: int, costs: Mapping[str, StepCost]) -> list[tuple[int, float]]:
    """(star, cost from the current star) for every star the indicator can be raised to, at least ``floor``."""
    ind, out, cost = r.indicator, [], 0.0
    for k in range(r.star, MAX_STAR + 1):
        if k > r.star:
            cost += step_cost(costs, ind.id, k)
            if _blank(ind.thresholds[k - 1]):
                continue
        if k >= floor:
            out.append((k, cost))
    return out


def _integer_weights(weights: Sequence[float]) -> list[int]:
    """Weights as the smallest integers in the same proportions (exact for up to 3 decimals)."""
    fracs = [Fraction(w).limit_denominator(1000) for w in weights]
    if not fracs:
        return []
    lcm = reduce(math.lcm, (f.denominator for f in fracs), 1)
    ints = [int(f * lcm) for f in fracs]
    g = reduce(math.gcd, ints, 0) or 1
    return [i // g for i in ints]


def _knapsack(items: Sequence[tuple[int, list[tuple[int, float]]]]) -> dict[int, tuple[float, tuple[int, ...]]]:
    """Min cost per reachable total of weight × star, with the star chosen for each item (a DP over items)."""
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for weight, options in items:
        nxt: dict[int, tuple[float, tuple[int, ...]]] = {}
        for points, (cost, chosen) in best.items():
            for star, c in options:
                key, total = points + weight * star, cost + c
                if key not in nxt or total < nxt[key][0] - 1e-12:
                    nxt[key] = (total, (*chosen, star))
        best = nxt
        if len(best) > MAX_POINTS:
            raise ValueError("the catalogue's weights are too fine for the exact planner")
    return best


def plan(evaluation: Evaluation, target_star: int, costs: Mapping[str, StepCost]) -> Plan:
    """The cheapest set of indicator steps that lifts the district to ``target_star`` under the same rules.

    Exact: mandatory indicators are first raised to the star the rule demands, then a multiple-choice knapsack
    over the core and the bonus items gives the minimum cost for every reachable total, and the cheapest pair of
    totals whose composite reaches the target wins. Infeasible targets say why.
    """
    if not 1 <= target_star <= MAX_STAR:
        raise ValueError(f"the target star must be 1–5, not {target_star}")
    rules, results = evaluation.rules, evaluation.results
    floor_m = target_star - rules.mandatory_slack if rules.mandatory_rule else 0
    core = [r for r in results if not r.indicator.bonus]
    extra = [r for r in results if r.indicator.bonus]
    options = {r.indicator.id: _options(r, floor_m if r.indicator.mandatory else 0, costs) for r in core}
    options |= {r.indicator.id: _options(r, 0, costs) for r in extra}
    blocked = [r.indicator.id for r in core if not options[r.indicator.id]]
    if blocked:
        return _infeasible(evaluation, target_star, f"mandatory indicators cannot reach ★{floor_m}: {blocked}")
    ranked = [_ranked(group, options) for group in (core, extra)]
    best: tuple[float, dict[str, int]] | None = None
    for _, (cost_c, chosen_c) in ranked[0]:
        stars_c = dict(zip((r.indicator.id for r in core), chosen_c, strict=True))
        if best is not None and cost_c >= best[0]:
            break
        for _, (cost_b, chosen_b) in ranked[1]:
            total = cost_c + cost_b
            if best is not None and total >= best[0]:
                break
            stars = stars_c | dict(zip((r.indicator.id for r in extra), chosen_b, strict=True))
            if _reaches(stars, evaluation, target_star):
                best = (total, stars)
                break
    if best is None:
        return _infeasible(evaluation, target_star, "even every indicator at its top star does not reach the target")
    return _plan_of(evaluation, target_star, best[1], costs)


def _ranked(
    group: Sequence[IndicatorResult], options: Mapping[str, list[tuple[int, float]]]
) -> list[tuple[int, tuple[float, tuple[int, ...]]]]:
    """The group's knapsack states, cheapest first (ties: more points first)."""
    weights = _integer_weights([r.indicator.weight for r in group])
    table = _knapsack([(w, options[r.indicator.id]) for w, r in zip(weights, group, strict=True)])
    return sorted(table.items(), key=lambda kv: (kv[1][0], -kv[0]))


def _reaches(stars: Mapping[str, int], evaluation: Evaluation, target: int) -> bool:
    core, bonus = composite_of(stars, evaluation.indicators, evaluation.rules)
    return district_star(core + bonus, stars, evaluation.indicators, evaluation.rules)[0] >= target


def _plan_of(evaluation: Evaluation, target: int, stars: Mapping[str, int], costs: Mapping[str, StepCost]) -> Plan:
    steps = []
    for r in evaluation.results:
        to = stars[r.indicator.id]
        if to > r.star:
            cost = sum(step_cost(costs, r.indicator.id, k) for k in range(r.star + 1, to + 1))
            ind = r.indicator
            needed = ind.thresholds[to - 1]
            steps.append(Step(ind.id, ind.name, ind.department, ind.unit, r.star, to, r.value, needed, cost))
    core, bonus = composite_of(stars, evaluation.indicators, evaluation.rules)
    star, _ = district_star(core + bonus, stars, evaluation.indicators, evaluation.rules)
    return Plan(target, True, sum(s.cost for s in steps), tuple(steps), core + bonus, star)


def _infeasible(evaluation: Evaluation, target: int, reason: str) -> Plan:
    return Plan(target, False, math.inf, (), evaluation.composite, evaluation.star, reason)
