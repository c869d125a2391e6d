"""Visitor forecast back-test on the synthetic history: MAPE against the naive "same time last week" baseline.

``.venv/bin/python -m tests.bench.bench_forecast [--start 2026-01-01 --end 2026-11-28 --window 28 --horizon 6]``
from the project root. A report, not a test: per scenic area and per kind of day (Golden Week, holiday, weekend,
workday) the forecast's MAPE beside the baseline's on the same points, then PASS/FAIL against the issue's target
(forecast MAPE below the baseline's) and ``targets met: N/M``; always exits 0.

Each day is forecast from every whole hour, ``--horizon`` hours ahead, knowing only its own curve up to that hour and
the ``--window`` days before it (what the live scene reads). Points count where the actual in-park count is at least
5 % of the area's instantaneous capacity (the scene's rule: a percentage error of an empty park says nothing).
"""

from __future__ import annotations

import argparse
import time
from datetime import date, datetime, timedelta

import numpy as np

from dashboard.domain.visitor_forecast import Backtest, backtest, day_curves
from dashboard.timeutil import TZ
from datasources.synthetic import SyntheticDistrict

#: Share of the instantaneous capacity below which an hour is not scored.
MIN_SHARE = 0.05


def history(start: date, end: date) -> dict[str, tuple[int, list[tuple[date, int, float]]]]:
    """Per spot: (instantaneous capacity, hourly (local date, hour, in-park) points) from the synthetic district."""
    district = SyntheticDistrict()
    begin = datetime.combine(start, datetime.min.time(), tzinfo=TZ)
    stop = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=TZ)
    frame = district.series("visitor_counts", begin, stop, step=timedelta(hours=1))
    local = frame["ts"].dt.tz_convert(TZ)
    frame = frame.assign(day=[t.date() for t in local], hour=local.dt.hour, minute=local.dt.minute)
    frame = frame.loc[frame["minute"] == 0]
    spots = district.static("scenic_spots").set_index("spot_id")
    return {
        str(spot): (
            int(spots.at[spot, "capacity_instant"]),
            list(zip(g["day"], g["hour"].astype(int), g["in_park"].astype(float), strict=True)),
        )
        for spot, g in frame.groupby("spot_id")
    }


def _pct(value: float | None) -> str:
    return "     —" if value is None else f"{100 * value:5.1f}%"


def _verdict(result: Backtest) -> tuple[str, bool]:
    ok = result.mape is not None and result.naive_mape is not None and result.mape < result.naive_mape
    return ("PASS" if ok else "FAIL"), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2026, 11, 28))
    parser.add_argument("--window", type=int, default=28, help="days of history each forecast may use")
    parser.add_argument("--horizon", type=int, default=6, help="hours ahead")
    args = parser.parse_args()

    began = time.perf_counter()
    data = history(args.start, args.end)
    print(
        f"visitor forecast back-test · {args.start} … {args.end} · window {args.window} d · "
        f"horizon {args.horizon} h · scored where in park ≥ {MIN_SHARE:.0%} of capacity"
    )
    print(f"{'area':<10} {'days':>5} {'points':>7} {'forecast':>9} {'last week':>10}  target")
    met = total = 0
    pooled: dict[str, list[tuple[float, float, int]]] = {}
    for spot, (capacity, points) in sorted(data.items()):
        curves = day_curves(args.start, args.end, points)
        result = backtest(curves, args.horizon, min_actual=MIN_SHARE * capacity, first=7, window=args.window)
        verdict, ok = _verdict(result)
        met, total = met + ok, total + 1
        print(
            f"{spot:<10} {result.days:>5} {result.points:>7} {_pct(result.mape):>9} {_pct(result.naive_mape):>10}"
            f"  {verdict} (below the baseline)"
        )
        for kind, figures in result.by_class.items():
            pooled.setdefault(kind, []).append(figures)
    print()
    print(f"{'kind of day':<12} {'points':>7} {'forecast':>9} {'last week':>10}")
    for kind in ("golden", "holiday", "leisure", "workday"):
        rows = pooled.get(kind, [])
        n = sum(r[2] for r in rows)
        if not n:
            print(f"{kind:<12} {0:>7}")
            continue
        ours = float(np.sum([r[0] * r[2] for r in rows]) / n)
        theirs = float(np.sum([r[1] * r[2] for r in rows]) / n)
        print(f"{kind:<12} {n:>7} {_pct(ours):>9} {_pct(theirs):>10}")
    print()
    print(f"targets met: {met}/{total}   ({time.perf_counter() - began:.1f} s)")


if __name__ == "__main__":
    main()
