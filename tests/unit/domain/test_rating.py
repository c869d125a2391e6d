"""The star-rating rules and the exact planner (dashboard.domain.rating)."""

from __future__ import annotations

import itertools
import math
import random

import pandas as pd
import pytest

from dashboard.domain import rating
from dashboard.domain.rating import Indicator, Rules, evaluate, indicator_star, plan

UP = (10.0, 20.0, 30.0, 40.0, 50.0)
DOWN = (7.0, 5.0, 4.0, 3.0, 2.0)


def ind(
    id_: str, weight: float = 1.0, *, mandatory: bool = False, domain: str = "数字惠民", th=UP, direction="higher"
) -> Indicator:
    return Indicator(id_, domain, f"指标{id_}", "%", direction, tuple(th), weight, mandatory, f"部门{id_[-1]}")


def values(pairs: dict[str, float], period: str = "2026Q3") -> pd.DataFrame:
    return pd.DataFrame(
        {"indicator_id": list(pairs), "period": period, "value": list(pairs.values()), "evidence": "台账"}
    )


# ---- stars ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "star"), [(9.99, 0), (10.0, 1), (19.999, 1), (20.0, 2), (49.9, 4), (50.0, 5), (1000, 5)]
)
def test_star_boundaries_higher_is_better(value: float, star: int) -> None:
    assert indicator_star(value, UP, "higher") == star


@pytest.mark.parametrize(("value", "star"), [(7.01, 0), (7.0, 1), (5.0, 2), (4.5, 2), (2.0, 5), (0.0, 5)])
def test_star_boundaries_lower_is_better(value: float, star: int) -> None:
    assert indicator_star(value, DOWN, "lower") == star


def test_missing_value_and_undefined_star() -> None:
    assert indicator_star(None, UP, "higher") == 0
    assert indicator_star(float("nan"), UP, "higher") == 0
    assert indicator_star(35.0, (10.0, None, 30.0, None, 50.0), "higher") == 3
    with pytest.raises(ValueError, match="direction"):
        indicator_star(1.0, UP, "up")


# ---- evaluation ----------------------------------------------------------------------------------


def test_composite_is_the_weighted_mean_and_missing_counts_zero() -> None:
    cat = [ind("A1", 3), ind("B2", 1)]
    ev = evaluate(cat, values({"A1": 40.0}), Rules(mandatory_rule=False))
    assert ev.stars == {"A1": 4, "B2": 0}
    assert ev.composite == pytest.approx(3.0)
    assert ev.star == 3 and ev.missing == ("B2",)
    assert ev.composite_gap == pytest.approx(1.0)


def test_gap_to_the_next_star_in_the_indicators_unit() -> None:
    cat = [ind("A1"), ind("B2", direction="lower", th=DOWN)]
    ev = evaluate(cat, values({"A1": 26.5, "B2": 4.4}), Rules(mandatory_rule=False))
    a, b = ev.results
    assert (a.star, a.next_star, a.next_threshold, a.gap) == (2, 3, 30.0, pytest.approx(3.5))
    assert (b.star, b.next_star, b.gap) == (2, 3, pytest.approx(0.4))
    top = evaluate([ind("A1")], values({"A1": 60.0})).results[0]
    assert top.next_star is None and top.gap is None


def test_bonus_is_capped_in_both_modes() -> None:
    cat = [ind("A1"), ind("T1", domain="地方特色"), ind("T2", domain="地方特色")]
    full = values({"A1": 30.0, "T1": 50.0, "T2": 50.0})
    mean = evaluate(cat, full, Rules(bonus_cap=0.4, mandatory_rule=False))
    assert mean.bonus == pytest.approx(0.4) and mean.composite == pytest.approx(3.4)
    summed = evaluate(cat, full, Rules(bonus_cap=0.3, bonus_mode="sum", bonus_per_star=0.1, mandatory_rule=False))
    assert summed.bonus == pytest.approx(0.3)  # 0.1 × 10 stars = 1.0, capped
    half = evaluate(cat, values({"A1": 30.0, "T1": 10.0}), Rules(bonus_mode="sum", bonus_per_star=0.1))
    assert half.bonus == pytest.approx(0.1)


def test_mandatory_rule_holds_the_district_star() -> None:
    cat = [ind("A1", 1, mandatory=True), ind("B2", 3)]
    got = values({"A1": 20.0, "B2": 50.0})
    assert evaluate(cat, got, Rules(mandatory_rule=False)).star == 4
    held = evaluate(cat, got, Rules())
    assert held.star == 2 and held.held_by == ("A1",)
    assert evaluate(cat, got, Rules(mandatory_slack=1)).star == 3


def test_latest_period_counts_and_old_values_are_stale() -> None:
    rows = pd.concat([values({"A1": 10.0}, "2025Q4"), values({"A1": 30.0}, "2026Q1"), values({"B2": 20.0}, "2025Q1")])
    ev = evaluate([ind("A1"), ind("B2")], rows, Rules(stale_quarters=2, mandatory_rule=False))
    assert ev.period == "2026Q1" and ev.stars["A1"] == 3 and ev.stale == ("B2",)


def test_rules_and_catalogue_reject_bad_input() -> None:
    with pytest.raises(ValueError, match="bonus_mode"):
        Rules(bonus_mode="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="empty"):
        evaluate(pd.DataFrame(), values({}))


# ---- the planner ---------------------------------------------------------------------------------


def brute_force(ev: rating.Evaluation, target: int, costs: dict) -> float:
    """Every combination of stars at or above the current ones, scored with the rules evaluate() uses."""
    choices = []
    for r in ev.results:
        ks = [k for k in range(r.star, 6) if k == r.star or r.indicator.thresholds[k - 1] is not None]
        choices.append(ks)
    best = math.inf
    for combo in itertools.product(*choices):
        stars = {r.indicator.id: k for r, k in zip(ev.results, combo, strict=True)}
        core, bonus = rating.composite_of(stars, ev.indicators, ev.rules)
        if rating.district_star(core + bonus, stars, ev.indicators, ev.rules)[0] >= target:
            cost = sum(
                rating.step_cost(costs, r.indicator.id, s)
                for r, k in zip(ev.results, combo, strict=True)
                for s in range(r.star + 1, k + 1)
            )
            best = min(best, cost)
    return best


def random_case(rng: random.Random) -> tuple[rating.Evaluation, dict]:
    n = rng.randint(2, 4)
    cat = []
    for i in range(n):
        domain = "地方特色" if i == n - 1 and rng.random() < 0.5 else "数字政府"
        th = list(UP if rng.random() < 0.7 else DOWN)
        direction = "higher" if th[0] == 10.0 else "lower"
        if rng.random() < 0.2:
            th[rng.randint(1, 3)] = None
        cat.append(
            ind(
                f"X{i}",
                rng.choice([1, 2, 3, 1.5]),
                mandatory=rng.random() < 0.3,
                domain=domain,
                th=th,
                direction=direction,
            )
        )
    got = {}
    for c in cat:
        if rng.random() < 0.85:
            got[c.id] = (
                rng.choice([x for x in c.thresholds if x is not None])
                if rng.random() < 0.8
                else (c.thresholds[0] - 1 if c.direction == "higher" else c.thresholds[0] + 1)
            )
    rules = Rules(
        bonus_cap=rng.choice([0.3, 0.5, 1.0]),
        bonus_mode=rng.choice(["mean", "sum"]),
        bonus_per_star=0.1,
        mandatory_rule=rng.random() < 0.7,
        mandatory_slack=rng.choice([0, 1]),
    )
    costs: dict = {"*": rng.choice([1.0, 2.5])}
    for c in cat:
        if rng.random() < 0.5:
            costs[c.id] = [round(rng.uniform(0.5, 9), 1) for _ in range(5)]
    return evaluate(cat, values(got), rules), costs


@pytest.mark.parametrize("seed", range(60))
def test_planner_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    ev, costs = random_case(rng)
    for target in range(1, 6):
        expected = brute_force(ev, target, costs)
        got = plan(ev, target, costs)
        if math.isinf(expected):
            assert not got.feasible and got.reason
        else:
            assert got.feasible and got.cost == pytest.approx(expected)
            assert got.star_after >= target
            # the plan is real: applying its steps reaches the target under evaluate()
            pairs = {r.indicator.id: r.value for r in ev.results if r.value is not None}
            pairs |= {s.indicator_id: s.needed for s in got.steps}
            assert evaluate(ev.indicators, values(pairs), ev.rules).star >= target


def test_plan_prefers_cheap_steps_and_groups_by_department() -> None:
    cat = [ind("A1"), ind("B2"), ind("C3")]
    ev = evaluate(cat, values({"A1": 20.0, "B2": 20.0, "C3": 20.0}), Rules(mandatory_rule=False))
    assert ev.star == 2
    result = plan(ev, 3, {"*": 5.0, "B2": 1.0})
    # three steps are needed (mean 3); B2 to 5 costs 3, anything else costs more
    assert result.cost == pytest.approx(3.0)
    assert [(s.indicator_id, s.from_star, s.to_star, s.needed) for s in result.steps] == [("B2", 2, 5, 50.0)]
    assert list(result.by_department()) == ["部门2"]


def test_plan_rejects_bad_targets_and_costs() -> None:
    ev = evaluate([ind("A1")], values({"A1": 10.0}))
    with pytest.raises(ValueError, match="1–5"):
        plan(ev, 6, {})
    with pytest.raises(ValueError, match="five step costs"):
        plan(ev, 3, {"A1": [1, 2]})
    with pytest.raises(ValueError, match="cannot cost"):
        plan(ev, 3, {"*": -1})
    blocked = evaluate([ind("A1", mandatory=True, th=(10, 20, None, None, None))], values({"A1": 10.0}))
    assert not plan(blocked, 4, {}).feasible


def test_values_without_evidence_are_flagged() -> None:
    rows = pd.DataFrame(
        {"indicator_id": ["A1", "B2"], "period": "2026Q4", "value": [30.0, 20.0], "evidence": ["台账", " "]}
    )
    ev = evaluate([ind("A1"), ind("B2"), ind("C3")], rows)
    assert ev.undocumented == ("B2",) and ev.missing == ("C3",)
