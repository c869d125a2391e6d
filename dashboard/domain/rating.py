"""DB37/T 3890.2 star rating: indicator stars and the composite (REFERENCE.md §7).

The standard gives every indicator its own 1–5 star criteria; the rule that
combines them into the county's star is not public, so the combination here
is OUR ASSUMPTION, stated as such wherever it is shown:

- an indicator's star is the highest star whose threshold its value meets
  (``higher``: value ≥ threshold; ``lower``: value ≤ threshold), 0 below star 1;
- the composite is the weighted mean of the core indicators' stars (every
  domain but 地方特色), where an indicator without a value counts 0 stars;
- 地方特色 items add a bonus: their weighted mean star / 5 × ``bonus_cap``;
- the district's star is the composite rounded down, capped at the lowest
  mandatory indicator's star + 1 when ``mandatory_rule`` is on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import pandas as pd

BONUS_DOMAIN = "地方特色"
STAR_COLUMNS = tuple(f"star{i}" for i in range(1, 6))


@dataclass(frozen=True)
class Evaluation:
    composite: float
    star: int
    bonus: float
    stars: Mapping[str, int] = field(hash=False)
    missing: tuple[str, ...] = ()
    sample: bool = True


def indicator_star(value: float | None, thresholds: tuple[float | None, ...], direction: str) -> int:
    """The highest star (1–5) whose threshold ``value`` meets; 0 if none or no value."""
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', not {direction!r}")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    star = 0
    for i, limit in enumerate(thresholds, start=1):
        if limit is None or (isinstance(limit, float) and math.isnan(limit)):
            continue
        if (value >= limit) if direction == "higher" else (value <= limit):
            star = i
    return star


def evaluate(
    catalogue: pd.DataFrame, values: pd.DataFrame, *, bonus_cap: float = 0.5, mandatory_rule: bool = True
) -> Evaluation:
    """Stars per indicator from each one's latest period, and the composite.

    ``catalogue``: the ``rating_indicators`` feed; ``values``: ``rating_values``.
    """
    if catalogue.empty:
        raise ValueError("the indicator catalogue is empty")
    latest = values.sort_values("period").groupby("indicator_id").tail(1).set_index("indicator_id")["value"]
    stars: dict[str, int] = {}
    for row in catalogue.itertuples(index=False):
        value = latest.get(row.indicator_id)
        thresholds = tuple(getattr(row, c) for c in STAR_COLUMNS)
        stars[row.indicator_id] = indicator_star(value, thresholds, row.direction)
    cat = catalogue.assign(star=catalogue["indicator_id"].map(stars))
    core = cat.loc[cat["domain"] != BONUS_DOMAIN]
    extra = cat.loc[cat["domain"] == BONUS_DOMAIN]
    core_score = _weighted(core)
    bonus = _weighted(extra) / 5 * bonus_cap if len(extra) else 0.0
    composite = round(core_score + bonus, 2)
    star = min(5, math.floor(composite))
    mandatory = core.loc[core["mandatory"].astype(bool), "star"]
    if mandatory_rule and len(mandatory):
        star = min(star, int(mandatory.min()) + 1)
    missing = tuple(i for i in cat["indicator_id"] if i not in latest.index)
    sample = bool(cat["sample"].fillna(False).astype(bool).any()) if "sample" in cat else False
    return Evaluation(composite, star, round(bonus, 2), stars, missing, sample)


def _weighted(frame: pd.DataFrame) -> float:
    weights = frame["weight"].astype(float)
    total = weights.sum()
    return float((frame["star"] * weights).sum() / total) if total > 0 else 0.0
