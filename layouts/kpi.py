"""The KPI tile: value, unit, change vs yesterday, sparkline, threshold colour,
data time with a stale badge, and 数据源异常 when its feed fails (over its last value, dimmed, when there is one)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashboard.i18n import t
from dashboard.kpis import Tile, TileSpec
from dashboard.numbers import fmt_delta, fmt_value
from dashboard.timeutil import local
from layouts import ids


def tile_frame(spec: TileSpec, lang: str, href: str) -> html.Div:
    """The static frame of a tile (a link to its scene); the tile callback fills the body."""
    return html.Div(
        className=f"kpi kpi-{spec.domain}",
        children=dcc.Link(
            href=href,
            className="kpi-link",
            children=[
                html.Div(spec.title_en if lang == "en" else spec.title_zh, className="kpi-title"),
                html.Div(id=ids.kpi(spec.id), className="kpi-body", children=html.Span("…", className="kpi-value")),
            ],
        ),
        **ids.data_attrs(kpi=spec.id),
    )


def tile_body(tile: Tile, lang: str) -> html.Div:
    """What changes every refresh."""
    spec = tile.spec
    if tile.failing:
        return html.Div(
            className="kpi-inner failing",
            title=tile.failing,
            children=[html.Span(t("health.failing", lang), className="kpi-failing")],
        )
    delta, sign = fmt_delta(tile.value, tile.previous, spec.fmt, lang)
    good = sign == 0 or (sign > 0) == (spec.direction == "higher")
    unit = "%" if spec.fmt == "pct" else spec.unit
    return html.Div(
        className=f"kpi-inner level-{tile.level}" + (" stale" if tile.stale or tile.degraded else ""),
        title=tile.degraded,
        children=[
            html.Div(
                className="kpi-main",
                children=[
                    html.Span(fmt_value(tile.value, spec.fmt, lang), className="kpi-value"),
                    html.Span(unit, className="kpi-unit"),
                    html.Span(tile.label, className="kpi-label") if tile.label and spec.fmt != "int" else None,
                ],
            ),
            _spark(tile.spark),
            html.Div(
                className="kpi-foot",
                children=[
                    html.Span(delta, className="kpi-delta " + ("up-good" if good else "up-bad")) if delta else None,
                    html.Span(_when(tile, lang), className="kpi-time"),
                    _badge(tile, lang),
                    html.Span(spec.note_en if lang == "en" else spec.note_zh, className="kpi-note")
                    if spec.note_zh
                    else None,
                ],
            ),
        ],
    )


def _badge(tile: Tile, lang: str) -> html.Span | None:
    """数据源异常 over the last good value while its feed fails; 数据过期 when the data is older than its limit."""
    if tile.degraded:
        return html.Span(t("health.failing", lang), className="kpi-stale kpi-degraded")
    return html.Span(t("health.stale", lang), className="kpi-stale") if tile.stale else None


def _when(tile: Tile, lang: str) -> str:
    if tile.data_time is None:
        return ""
    return local(tile.data_time).strftime("%m-%d %H:%M")


def _spark(values: tuple[float | None, ...]) -> html.Div | None:
    """A 24-bar sparkline in plain HTML: light enough for a wall of tiles."""
    known = [v for v in values if v is not None]
    if len(known) < 2:
        return None
    lo, hi = min(known), max(known)
    span = (hi - lo) or 1.0
    bars = [
        html.Span(
            className="bar" if v is not None else "bar gap", style={"height": f"{12 + 88 * (v - lo) / span:.0f}%"}
        )
        if v is not None
        else html.Span(className="bar gap")
        for v in values
    ]
    hidden: dict[str, Any] = {"aria-hidden": "true"}
    return html.Div(bars, className="kpi-spark", **hidden)
