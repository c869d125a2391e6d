"""The scenes' small dark charts: one look (transparent, muted axes, CJK font), one empty/failed state."""

from __future__ import annotations

from typing import Any

#: Plotly config of every scene chart: no mode bar on a wall, resizes with its panel.
CONFIG: Any = {"displayModeBar": False, "responsive": True}
MUTED, GRID = "#8fa6c1", "rgba(143,166,193,0.12)"
FAILED = "#ff4d4f"


def axis(**extra: Any) -> dict[str, Any]:
    """A muted, fixed (no zoom on a wall) axis."""
    return {
        "gridcolor": GRID,
        "zeroline": False,
        "linecolor": GRID,
        "tickfont": {"size": 11},
        "fixedrange": True,
    } | extra


def layout(*, x: dict[str, Any] | None = None, y: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A transparent, dark, small chart (the panel gives the title); ``x``/``y`` add to the axes, ``extra`` wins."""
    return {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": MUTED, "size": 11, "family": "Noto Sans CJK SC, Microsoft YaHei, sans-serif"},
        "margin": {"l": 34, "r": 8, "t": 6, "b": 24},
        "showlegend": False,
        "hovermode": "closest",
        "xaxis": axis(type="date", **(x or {})),
        "yaxis": axis(**(y or {})),
        **extra,
    }


def figure(data: list[dict[str, Any]], chart: dict[str, Any], message: str = "") -> dict[str, Any]:
    """``data`` on the ``chart`` layout; with a ``message`` (no data, 数据源异常) the axes give way to it."""
    if message:
        chart = chart | {
            "annotations": [
                {
                    "text": message,
                    "showarrow": False,
                    "xref": "paper",
                    "yref": "paper",
                    "x": 0.5,
                    "y": 0.5,
                    "font": {"size": 16, "color": FAILED},
                }
            ],
            "xaxis": chart["xaxis"] | {"visible": False},
            "yaxis": chart["yaxis"] | {"visible": False},
        }
    return {"data": data, "layout": chart}
