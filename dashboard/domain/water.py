"""Surface-water class per GB 3838-2002 (地表水环境质量标准), single-factor method (REFERENCE.md §3).

A sample's class is the worst class of its items. Rivers use the river TP column and do not grade TN (GB 3838
Table 1 applies TN to lakes and reservoirs only); reservoirs (岩马, 庄里) use the lake TP column and grade TN.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from types import MappingProxyType

#: Class labels, index = grade − 1; grade 6 is 劣Ⅴ (worse than Ⅴ).
LABELS: tuple[str, ...] = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ")
WORSE_THAN_V = 6

#: Upper limits (mg/L) for classes Ⅰ–Ⅴ: a value equal to a limit is in that class.
_UPPER_LIMITS: Mapping[str, tuple[float, ...]] = MappingProxyType(
    {
        "codmn": (2, 4, 6, 10, 15),
        "cod": (15, 15, 20, 30, 40),
        "bod5": (3, 3, 4, 6, 10),
        "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    }
)
_TP_RIVER: tuple[float, ...] = (0.02, 0.1, 0.2, 0.3, 0.4)
_TP_LAKE: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.2)
_TN_LAKE: tuple[float, ...] = (0.2, 0.5, 1.0, 1.5, 2.0)

#: Dissolved oxygen lower limits (mg/L) for classes Ⅰ–Ⅴ: higher is better, a value equal to a limit is in it.
DO_LOWER_LIMITS: tuple[float, ...] = (7.5, 6, 5, 3, 2)

#: pH range shared by classes Ⅰ–Ⅴ (inclusive).
PH_RANGE: tuple[float, float] = (6.0, 9.0)

#: "≤" limits per waterbody; TN is absent for rivers, so it is not graded there.
UPPER_LIMITS: Mapping[str, Mapping[str, tuple[float, ...]]] = MappingProxyType(
    {
        "river": MappingProxyType({**_UPPER_LIMITS, "tp": _TP_RIVER}),
        "reservoir": MappingProxyType({**_UPPER_LIMITS, "tp": _TP_LAKE, "tn": _TN_LAKE}),
    }
)

#: Items in reporting order.
ITEMS: tuple[str, ...] = ("do", "codmn", "cod", "bod5", "nh3n", "tp", "tn", "ph")


@dataclass(frozen=True)
class WaterClass:
    """Class of one sample and the items that decide it."""

    grade: int
    label: str
    deciding: tuple[str, ...]
    item_grades: Mapping[str, int] = field(hash=False)


def water_class(sample: Mapping[str, float | None], *, waterbody: str) -> WaterClass:
    """GB 3838-2002 class of a sample (mg/L, pH unitless) by the single-factor (worst item) method.

    ``waterbody`` is "river" or "reservoir". Missing items (absent or None) are skipped; at least one graded item is
    needed. For rivers a given TN is validated but not graded. ``deciding`` lists the items whose class equals the
    sample's class (all class-Ⅰ items when the sample is Ⅰ). pH has one range for every class, so a pH outside
    6–9 puts the pH item in 劣Ⅴ (our choice: the standard gives no class for it) and inside it in Ⅰ.
    """
    _check_waterbody(waterbody)
    unknown = [key for key in sample if key not in ITEMS]
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        raise ValueError(f"unknown water quality item(s) {names}; expected {', '.join(ITEMS)}")
    values = {item: _value(item, sample[item]) for item in ITEMS if sample.get(item) is not None}
    graded = _graded(waterbody)
    grades = {item: item_grade(item, value, waterbody=waterbody) for item, value in values.items() if item in graded}
    if not grades:
        raise ValueError(f"no graded item in the sample: give at least one of {', '.join(graded)}")
    worst = max(grades.values())
    return WaterClass(
        grade=worst,
        label=LABELS[worst - 1],
        deciding=tuple(item for item, grade in grades.items() if grade == worst),
        item_grades=MappingProxyType(grades),
    )


def item_grade(item: str, value: float, *, waterbody: str) -> int:
    """Class (1–6) of one item's value; 6 when worse than Ⅴ. A river's TN has no class and raises ValueError."""
    _check_waterbody(waterbody)
    value = _value(item, value)
    if item == "ph":
        return 1 if PH_RANGE[0] <= value <= PH_RANGE[1] else WORSE_THAN_V
    if item == "do":
        return next((i + 1 for i, low in enumerate(DO_LOWER_LIMITS) if value >= low), WORSE_THAN_V)
    limits = UPPER_LIMITS[waterbody].get(item)
    if limits is None:
        raise ValueError(f"{item!r} has no GB 3838 class for waterbody {waterbody!r}; graded: {_graded(waterbody)}")
    return next((i + 1 for i, high in enumerate(limits) if value <= high), WORSE_THAN_V)


def meets(grade: int, target_class: int) -> bool:
    """True when a sample of class ``grade`` (1–6) is at least as good as ``target_class`` (1–5, Ⅰ–Ⅴ)."""
    for name, value, top in (("grade", grade, 6), ("target_class", target_class, 5)):
        if isinstance(value, bool) or not isinstance(value, Integral) or not 1 <= value <= top:
            raise ValueError(f"{name} must be an integer 1–{top}, got {value!r}")
    return grade <= target_class


def _check_waterbody(waterbody: str) -> None:
    if waterbody not in UPPER_LIMITS:
        raise ValueError(f"waterbody must be one of {sorted(UPPER_LIMITS)}, got {waterbody!r}")


def _graded(waterbody: str) -> tuple[str, ...]:
    return tuple(item for item in ITEMS if item in ("do", "ph") or item in UPPER_LIMITS[waterbody])


def _value(item: str, raw: object) -> float:
    if isinstance(raw, bool) or not isinstance(raw, Real):
        raise ValueError(f"{item}: value must be a number, got {raw!r}")
    value = float(raw)
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{item}: value must be finite and ≥ 0, got {raw!r}")
    if item == "ph" and value > 14:
        raise ValueError(f"ph: value must be within 0–14, got {raw!r}")
    return value
