"""Exports for briefings: a standalone HTML map (folium) and Excel-safe CSV.

The map file must open on a PC with no network at all, so it carries its own
Leaflet: the vendored ``vendor/leaflet`` build is inlined into the page head and
folium's CDN links (Leaflet, jQuery, Bootstrap, Font Awesome, awesome-markers)
are switched off. Only features plain Leaflet draws are used (GeoJSON layers,
circle markers, the layer control, tooltips); there is no tile layer unless the
caller passes one, because the district's own geometry is the basemap.

This is the only module that uses folium; the live app draws with dash-leaflet.
Leaflet lives outside ``assets/`` on purpose: Dash loads every script there into
every page, where it would clash with dash-leaflet's own bundled Leaflet.

Text from data (names, titles, heading, credits) never reaches the page as
markup: HTML built here is escaped, layer names are escaped before Leaflet's
layer control sets them as innerHTML, and tooltips are built with textContent.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import folium
import pandas as pd
from branca.element import Element, Figure
from folium.template import Template
from folium.utilities import JsCode

VENDOR = Path(__file__).parent / "vendor" / "leaflet"

Props = Mapping[str, Any]
Style = dict[str, Any]
Words = Mapping[str, str]

_COLOUR = re.compile(r"#[0-9A-Fa-f]{3,8}")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*")
_STATIC = ("outline", "rivers", "roads")
#: Drawing order of the live layers: areas under lines under points.
_LIVE_ORDER = ("towns", "accidents", "segments", "cameras", "buses", "air", "scenic")
_TOWN_FILL = {"ok": "#1f9d55", "warn": "#d4a017", "bad": "#c0392b", "none": "#34495e"}
_SEGMENT = ("#5d6d7e", "#2ECC71", "#A3D977", "#F5B041", "#E67E22", "#C0392B")
_CAMERA = {"online": "#2ecc71", "offline": "#8a94a6", "fault": "#ff4d4f"}
_SCENIC = ("#8a94a6", "#2ecc71", "#a3d977", "#f5b041", "#e67e22", "#c0392b")
_ROAD_WEIGHT = {"expressway": 3, "arterial": 2, "secondary": 1, "branch": 1}
_NEUTRAL = "#95a5a6"
_FONT = '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", sans-serif'

_WORDS: dict[str, dict[str, str]] = {
    "zh": {
        "value": "数值", "speed_unknown": "车速未知", "accidents": "事故 {n} 起", "online": "在线",
        "offline": "离线", "fault": "故障", "line": "线路", "load": "满载率", "delay": "晚点 {s} 秒",
        "in_park": "在园 {n} / 承载量 {c}", "assumed": "承载量为假设值（可配置）",
    },
    "en": {
        "value": "Value", "speed_unknown": "speed unknown", "accidents": "{n} accidents", "online": "online",
        "offline": "offline", "fault": "fault", "line": "Line", "load": "Load", "delay": "{s} s late",
        "in_park": "{n} in park / capacity {c}", "assumed": "capacity is an assumption (configurable)",
    },
}  # fmt: skip

# Tooltips are DOM nodes filled with textContent, so data is never parsed as HTML.
_TOOLTIP_JS = """function (feature, layer) {
    var lines = feature.properties && feature.properties._tip;
    if (!lines || !lines.length) { return; }
    layer.bindTooltip(function () {
        var box = document.createElement("div");
        lines.forEach(function (line, i) {
            var row = document.createElement(i === 0 ? "strong" : "div");
            row.textContent = line;
            box.appendChild(row);
        });
        return box;
    }, {sticky: true, className: "st-tip"});
}"""


# ---- small helpers -----------------------------------------------------------------------


def _num(value: Any, default: float = 0.0) -> float:
    """A finite float from a data value, or ``default`` (None, text, NaN…)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _colour(value: Any, default: str) -> str:
    """A hex colour from data, or ``default``: data never reaches styles unchecked."""
    return value if isinstance(value, str) and _COLOUR.fullmatch(value) else default


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{round(float(value), 2):,}"


def _lang(lang: str) -> str:
    return lang if _LANG.fullmatch(lang or "") else "zh-CN"


def _words(lang: str) -> Words:
    return _WORDS["en" if lang.lower().startswith("en") else "zh"]


def _text(props: Props, *keys: str) -> str:
    return next((str(props[k]) for k in keys if props.get(k) not in (None, "")), "")


# ---- styles ------------------------------------------------------------------------------


def _point(colour: str, radius: float, *, fill_opacity: float = 0.9, stroke: str | None = None) -> Style:
    return {"radius": radius, "color": stroke or colour, "weight": 1, "opacity": 0.9, "fill": True,
            "fillColor": colour, "fillOpacity": fill_opacity}  # fmt: skip


def _outline_style(p: Props) -> Style:
    return {"color": "#35c2ff", "weight": 2.5, "fillColor": "#0d2038", "fillOpacity": 0.3}


def _river_style(p: Props) -> Style:
    if p.get("kind") == "reservoir":
        return {"color": "#2e86de", "weight": 1, "fillColor": "#1b4f8a", "fillOpacity": 0.85}
    return {"color": "#2e86de", "weight": 2.5, "opacity": 0.9, "fill": False}


def _road_style(p: Props) -> Style:
    return {"color": "#7f8c9d", "weight": _ROAD_WEIGHT.get(str(p.get("road_class")), 1), "opacity": 0.9}


def _town_style(p: Props) -> Style:
    selected = bool(p.get("selected"))
    return {"color": "#ffffff" if selected else "#9fb3c8", "weight": 3 if selected else 1.2, "dashArray": "5 4",
            "fillColor": _TOWN_FILL.get(str(p.get("level")), _TOWN_FILL["none"]), "fillOpacity": 0.28}  # fmt: skip


def _segment_style(p: Props) -> Style:
    level = min(5, max(0, int(_num(p.get("level")))))
    return {"color": _SEGMENT[level], "weight": 4, "opacity": 0.95}


def _accident_style(p: Props) -> Style:
    heat = min(1.0, max(0.0, _num(p.get("heat"))))
    return {"stroke": False, "fillColor": "#ff4d4f", "fillOpacity": round(0.15 + 0.6 * heat, 2)}


def _camera_style(p: Props) -> Style:
    return _point(_CAMERA.get(str(p.get("status")), _CAMERA["offline"]), 3)


def _bus_style(p: Props) -> Style:
    load = _num(p.get("load"))
    colour = "#ff4d4f" if load >= 0.9 else "#f5b041" if load >= 0.7 else "#35c2ff"
    return _point(colour, 5, fill_opacity=0.95, stroke="#0b1a2e")


def _air_style(p: Props) -> Style:
    colour = _colour(p.get("colour"), "#5d6d7e") if p.get("aqi") is not None else "#5d6d7e"
    return _point(colour, 9, stroke="#ffffff")


def _scenic_style(p: Props) -> Style:
    level = min(5, max(0, int(_num(p.get("level")))))
    radius = round(8 + 14 * min(1.2, max(0.0, _num(p.get("ratio")))), 1)
    return {**_point(_SCENIC[level], radius, fill_opacity=0.45), "weight": 2}


def _neutral_style(p: Props) -> Style:
    return {**_point(_NEUTRAL, 4, fill_opacity=0.3), "weight": 1.5}


# ---- tooltips (lists of plain-text lines; the first is shown bold) ----------------------------


def _town_tip(p: Props, w: Words) -> list[str]:
    return [_text(p, "name", "code"), f"{w['value']}: {_fmt(p.get('value'))}"]


def _segment_tip(p: Props, w: Words) -> list[str]:
    speed = p.get("speed")
    return [_text(p, "name", "id"), w["speed_unknown"] if speed is None else f"{_fmt(speed)} km/h"]


def _accident_tip(p: Props, w: Words) -> list[str]:
    return [w["accidents"].format(n=_fmt(p.get("n")))]


def _camera_tip(p: Props, w: Words) -> list[str]:
    status = str(p.get("status"))
    return [_text(p, "id"), w.get(status, status), _text(p, "system")]


def _bus_tip(p: Props, w: Words) -> list[str]:
    load = f"{w['load']} {_num(p.get('load')):.0%}"
    return [f"{w['line']} {_text(p, 'line')} · {_text(p, 'id')}", load, w["delay"].format(s=_fmt(p.get("delay")))]


def _air_tip(p: Props, w: Words) -> list[str]:
    return [_text(p, "name", "id"), f"AQI {_fmt(p.get('aqi'))}", _text(p, "category")]


def _scenic_tip(p: Props, w: Words) -> list[str]:
    lines = [_text(p, "name", "id"), w["in_park"].format(n=_fmt(p.get("in_park")), c=_fmt(p.get("capacity")))]
    lines.append(f"{_num(p.get('ratio')):.0%} · {_text(p, 'band')}")
    return [*lines, w["assumed"]] if p.get("assumed") else lines


def _neutral_tip(p: Props, w: Words) -> list[str]:
    return [_text(p, "name", "title", "id")]


@dataclass(frozen=True)
class _Kind:
    style: Callable[[Props], Style]
    tip: Callable[[Props, Words], list[str]] | None = None


_KINDS: dict[str, _Kind] = {
    "outline": _Kind(_outline_style),
    "rivers": _Kind(_river_style),
    "roads": _Kind(_road_style),
    "towns": _Kind(_town_style, _town_tip),
    "segments": _Kind(_segment_style, _segment_tip),
    "accidents": _Kind(_accident_style, _accident_tip),
    "cameras": _Kind(_camera_style, _camera_tip),
    "buses": _Kind(_bus_style, _bus_tip),
    "air": _Kind(_air_style, _air_tip),
    "scenic": _Kind(_scenic_style, _scenic_tip),
}
_UNKNOWN = _Kind(_neutral_style, _neutral_tip)


# ---- layers ------------------------------------------------------------------------------


def _rounded(coords: Any) -> Any:
    """Coordinates to 6 decimals (~0.1 m): the same map in a third less file."""
    if isinstance(coords, list | tuple):
        return [_rounded(c) for c in coords]
    return round(coords, 6) if isinstance(coords, float) else coords


def _geometry(geometry: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(geometry)
    if "coordinates" in out:
        out["coordinates"] = _rounded(out["coordinates"])
    if "geometries" in out:
        out["geometries"] = [_geometry(g) for g in out["geometries"] or ()]
    return out


def _features(collection: Mapping[str, Any], kind: _Kind, words: Words) -> dict[str, Any]:
    """A fresh FeatureCollection (the caller's dicts are not touched) with tooltip lines.

    Each feature gets its index as ``id`` so folium keys its style map on
    ``feature.id`` and never builds JavaScript from a data property's name.
    """
    features: list[dict[str, Any]] = []
    for feature in collection.get("features") or ():
        if not isinstance(feature, Mapping) or not feature.get("geometry"):
            continue
        props = dict(feature.get("properties") or {})
        if kind.tip is not None:
            props["_tip"] = [line for line in kind.tip(props, words) if line]
        features.append(
            {"type": "Feature", "id": len(features), "geometry": _geometry(feature["geometry"]), "properties": props}
        )
    return {"type": "FeatureCollection", "features": features}


def _geojson(collection: Mapping[str, Any], kind: _Kind, words: Words, title: str | None) -> folium.GeoJson:
    data = _features(collection, kind, words)
    styled = bool(data["features"])  # folium's style map needs at least one feature
    return folium.GeoJson(
        data,
        name=html.escape(title) if title is not None else None,
        control=title is not None,
        style_function=(lambda f: kind.style(f["properties"])) if styled else None,
        # Every point becomes a circle: Leaflet's default marker would need icon images.
        marker=folium.CircleMarker(radius=4, fill=True),
        on_each_feature=JsCode(_TOOLTIP_JS) if kind.tip else None,
        interactive=kind.tip is not None,
    )


def _live_order(names: Iterable[str]) -> list[str]:
    """Known live layers in drawing order, unknown ones between the lines and the points."""
    live = [n for n in names if n not in _STATIC]
    known = [n for n in _LIVE_ORDER if n in live]
    unknown = [n for n in live if n not in _LIVE_ORDER]
    under = len([n for n in known if n in ("towns", "accidents", "segments")])
    return known[:under] + unknown + known[under:]


def _unique(title: str, taken: set[str]) -> str:
    """Leaflet's layer control is keyed by name: a repeated title would hide a layer."""
    candidate, n = title, 2
    while candidate in taken:
        candidate, n = f"{title} ({n})", n + 1
    taken.add(candidate)
    return candidate


def _add_layers(m: folium.Map, layers: Mapping[str, Mapping[str, Any]], titles: Mapping[str, str], lang: str) -> None:
    words = _words(lang)
    for name in (n for n in _STATIC if n in layers):
        _geojson(layers[name], _KINDS[name], words, None).add_to(m)
    taken: set[str] = set()
    for name in _live_order(layers):
        title = _unique(str(titles.get(name, name)), taken)
        _geojson(layers[name], _KINDS.get(name, _UNKNOWN), words, title).add_to(m)
    if taken:
        folium.LayerControl(collapsed=False).add_to(m)


# ---- the page ----------------------------------------------------------------------------


class _Page(Figure):
    """branca's Figure with a language, a real charset meta and an escaped title."""

    _template = Template(
        "<!DOCTYPE html>\n"
        '<html lang="{{ this.lang|e }}">\n<head>\n<meta charset="utf-8">\n'
        "<title>{{ this.title|e }}</title>\n{{ this.header.render(**kwargs) }}\n</head>\n<body>\n"
        "{{ this.html.render(**kwargs) }}\n<script>\n{{ this.script.render(**kwargs) }}\n</script>\n"
        "</body>\n</html>\n"
    )

    def __init__(self, title: str, lang: str) -> None:
        super().__init__(title=title)
        self.lang = lang
        self.header._children.pop("meta_http", None)  # replaced by <meta charset> above


@cache
def _leaflet_assets() -> tuple[str, str]:
    """The vendored Leaflet JS and CSS, ready to inline (control icons as data URIs)."""
    js = (VENDOR / "leaflet.js").read_text(encoding="utf-8")
    css = (VENDOR / "leaflet.css").read_text(encoding="utf-8")
    if "</script" in js.lower() or "</style" in css.lower():
        raise ValueError("vendored Leaflet cannot be inlined: it contains a closing tag")
    for image in ("layers.png", "layers-2x.png"):
        data = base64.b64encode((VENDOR / "images" / image).read_bytes()).decode("ascii")
        css = css.replace(f"url(images/{image})", f"url(data:image/png;base64,{data})")
    # Only Leaflet's default marker icon uses this image; this page never draws one.
    css = css.replace("url(images/marker-icon.png)", "none")
    return js, css


def _page_css() -> str:
    box = "position: fixed; z-index: 1001; background: rgba(8, 20, 38, 0.9); color: #e6f1ff;"
    return f"""
html, body, .leaflet-container {{ font-family: {_FONT}; }}
.leaflet-container {{ background: #07111d; }}
.st-head {{ {box} top: 12px; left: 12px; padding: 10px 16px; border: 1px solid #35c2ff66; border-radius: 6px; }}
.st-head h1 {{ margin: 0 0 4px; font-size: 22px; font-weight: 700; letter-spacing: 1px; }}
.st-head .st-time {{ font-size: 14px; color: #9fb3c8; }}
.st-legend {{ {box} bottom: 40px; left: 12px; padding: 8px 12px; font-size: 13px; border-radius: 6px;
  border: 1px solid #35c2ff33; max-height: 60vh; overflow-y: auto; }}
.st-legend h2 {{ margin: 6px 0 4px; font-size: 13px; color: #9fb3c8; font-weight: 600; }}
.st-legend h2:first-child {{ margin-top: 0; }}
.st-legend .st-row {{ display: flex; align-items: center; gap: 6px; line-height: 1.6; }}
.st-legend .st-swatch {{ width: 12px; height: 12px; border-radius: 3px; flex: none; }}
.st-credits {{ {box} bottom: 8px; left: 12px; padding: 3px 10px; font-size: 12px; color: #9fb3c8; border-radius: 4px; }}
.leaflet-control-layers, .leaflet-bar a, .leaflet-container .leaflet-control-attribution {{
  background: rgba(8, 20, 38, 0.9); color: #e6f1ff; }}
.leaflet-control-layers {{ font-size: 14px; }}
.leaflet-bar a {{ border-bottom-color: #35c2ff44; }}
.leaflet-container .leaflet-control-attribution a {{ color: #9fb3c8; }}
.st-tip {{ font-size: 13px; }}
"""


def _legend_html(legend: Sequence[tuple[str, Sequence[tuple[str, str]]]]) -> str:
    parts = []
    for group, items in legend:
        parts.append(f"<h2>{html.escape(str(group))}</h2>")
        for label, colour in items:
            swatch = f'<span class="st-swatch" style="background:{_colour(colour, _NEUTRAL)}"></span>'
            parts.append(f'<div class="st-row">{swatch}<span>{html.escape(str(label))}</span></div>')
    return f'<div class="st-legend">{"".join(parts)}</div>' if parts else ""


def _overlay_html(heading: str, data_time: str, credits: str, legend_html: str) -> str:
    head = (
        f'<div class="st-head"><h1>{html.escape(heading)}</h1><div class="st-time">{html.escape(data_time)}</div></div>'
    )
    return f'{head}{legend_html}<div class="st-credits">{html.escape(credits)}</div>'


def _new_map(page: _Page, bounds: list[list[float]], tiles: tuple[str, str] | None) -> folium.Map:
    (south, west), (north, east) = bounds
    # zoomSnap 0.25: fitting the district at whole zoom levels leaves up to half the screen empty.
    m = folium.Map(location=[(south + north) / 2, (west + east) / 2], zoom_start=11, tiles=None,
                   zoom_control="bottomright", zoom_snap=0.25, zoom_delta=0.5)  # fmt: skip
    m.default_js, m.default_css = [], []  # no CDN links: Leaflet is inlined by _assemble
    page.add_child(m)
    if tiles is not None:
        url, attribution = tiles
        folium.TileLayer(tiles=url, attr=html.escape(attribution), name="tiles", control=False).add_to(m)
    return m


def _assemble(page: _Page, overlay_html: str) -> None:
    js, css = _leaflet_assets()
    page.header.add_child(Element(f"<style>\n{css}\n</style>"), name="leaflet_css", index=0)
    page.header.add_child(Element(f"<script>\n{js}\n</script>"), name="leaflet_js", index=1)
    page.header.add_child(Element(f"<style>{_page_css()}</style>"), name="page_css")
    page.html.add_child(Element(overlay_html), name="overlay")


def _bounds(bounds: Sequence[Sequence[float]]) -> list[list[float]]:
    pairs = [[float(v) for v in pair] for pair in bounds]
    if len(pairs) != 2 or any(len(p) != 2 or not all(map(math.isfinite, p)) for p in pairs):
        raise ValueError("bounds must be [[south, west], [north, east]]")
    return pairs


def map_html(
    layers: Mapping[str, Mapping[str, Any]],
    *,
    titles: Mapping[str, str],
    bounds: Sequence[Sequence[float]],
    heading: str,
    data_time: str,
    credits: str,
    legend: Sequence[tuple[str, Sequence[tuple[str, str]]]],
    lang: str = "zh-CN",
    tiles: tuple[str, str] | None = None,
) -> str:
    """A self-contained HTML map of ``layers`` for briefings, openable with no network.

    ``layers`` maps layer names to WGS84 FeatureCollections: ``outline``,
    ``rivers`` and ``roads`` are drawn first as a fixed basemap; every other
    layer (unknown names get a neutral style) is listed in the layer control
    under its ``titles`` entry. The page shows ``heading`` and ``data_time`` top
    left, the ``legend`` and ``credits`` bottom left, and opens fitted to
    ``bounds``. ``tiles`` = (url template, attribution) adds a tile layer; the
    default is none, so nothing is fetched when the file is opened.
    """
    fitted = _bounds(bounds)
    lang = _lang(lang)
    page = _Page(title=heading, lang=lang)
    m = _new_map(page, fitted, tiles)
    _add_layers(m, layers, titles, lang)
    folium.FitBounds(fitted).add_to(m)
    _assemble(page, _overlay_html(heading, data_time, credits, _legend_html(legend)))
    return page.render()


# ---- CSV ---------------------------------------------------------------------------------

#: Leading characters that make Excel/WPS/LibreOffice read a cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as CSV bytes for Excel: UTF-8 with BOM, CRLF line ends, no index.

    The BOM is what makes Excel read the file as UTF-8 rather than the system
    code page (GBK), so Chinese is not garbled. Text cells (and headers) that
    start with ``= + - @``, tab or CR get a leading ``'``: a spreadsheet would
    otherwise run them as formulas (CSV/formula injection, e.g. a village name
    ``=HYPERLINK(...)`` from a data feed turning into a live link or a DDE
    command). Numbers are untouched; only text changes.
    """
    safe = frame.copy()
    for i in range(safe.shape[1]):  # by position: column names may repeat
        series = safe.iloc[:, i]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype(object)
        if pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series):
            safe.isetitem(i, series.map(_defuse))
    safe.columns = [_defuse(c) for c in safe.columns]
    text = safe.to_csv(index=False, lineterminator="\r\n")
    return text.encode("utf-8-sig")
