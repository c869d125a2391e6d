"""zh-CN first, English on request.

The language is a cookie (set by ``/lang/<code>``), read per request, so the
page, every callback and every worker agree without server-side state.
"""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("zh-CN", "en")
COOKIE = "lang"

TEXT: Mapping[str, tuple[str, str]] = {
    "app.title": ("山亭大脑", "Shanting Brain"),
    "app.subtitle": ("山亭区城市运行管理中心", "Shanting District Operations Centre"),
    "lang.switch": ("English", "中文"),
    "health.title": ("数据健康", "Data health"),
    "health.fresh": ("正常", "fresh"),
    "health.stale": ("数据过期", "stale"),
    "health.failing": ("数据源异常", "source failing"),
    "health.empty": ("无数据", "no data"),
    "health.static": ("基础数据", "reference data"),
    "health.idle": ("非运营时段", "outside service hours"),
    "health.event": ("事件型", "event feed"),
    "health.rejected": ("条被拒收", "rows rejected"),
    "health.updated": ("更新于", "updated"),
    "building.title": ("建设中", "Under construction"),
    "building.body": (
        "本场景正在建设，数据接入后在此展示。当前不显示任何数值，以免误导。",
        "This scene is being built. No figures are shown until its data is wired in.",
    ),
    "data.title": ("数据接入", "Data feeds"),
    "data.feed": ("数据项", "Feed"),
    "data.domain": ("领域", "Domain"),
    "data.source": ("数据源", "Source"),
    "data.state": ("状态", "State"),
    "data.last": ("最近数据时间", "Latest data"),
    "data.age": ("时效", "Age"),
    "data.limit": ("过期阈值", "Stale after"),
    "data.rejected": ("拒收行数", "Rejected rows"),
    "data.note": (
        "各部门按数据契约（FEEDS.md）报送；不符合契约的行被拒收并记录原因，不进入大屏。",
        "Departments deliver to the feed contracts (FEEDS.md); rows that break a contract "
        "are rejected with a reason and never reach the screens.",
    ),
    "domain.geo": ("基础地理", "Geography"),
    "domain.transport": ("交通", "Transport"),
    "domain.video": ("治安视频", "Video"),
    "domain.environment": ("生态环境", "Environment"),
    "domain.tourism": ("文旅", "Tourism"),
    "domain.rating": ("星级评估", "Star rating"),
    "domain.events": ("事件", "Events"),
    "scene.overview": ("总览", "Overview"),
    "scene.transport": ("交通", "Transport"),
    "scene.video": ("治安视频", "Video"),
    "scene.environment": ("生态环境", "Environment"),
    "scene.tourism": ("文旅客流", "Tourism"),
    "scene.rating": ("星级评估", "Star rating"),
    "scene.data": ("数据接入", "Data feeds"),
    "notfound.title": ("页面不存在", "Page not found"),
    "legend.cameras": ("视频", "Cameras"),
    "legend.cameras.online": ("在线", "online"),
    "legend.cameras.offline": ("离线", "offline"),
    "legend.cameras.fault": ("故障", "fault"),
    "legend.congestion": ("路况", "Traffic"),
    "legend.congestion.1": ("畅通", "free"),
    "legend.congestion.2": ("基本畅通", "fair"),
    "legend.congestion.3": ("轻度拥堵", "light"),
    "legend.congestion.4": ("中度拥堵", "moderate"),
    "legend.congestion.5": ("严重拥堵", "severe"),
    "legend.aqi": ("AQI", "AQI"),
    "legend.aqi.1": ("优", "good"),
    "legend.aqi.2": ("良", "moderate"),
    "legend.aqi.3": ("轻度", "USG"),
    "legend.aqi.4": ("中度", "unhealthy"),
    "legend.aqi.5": ("重度", "very unh."),
    "legend.aqi.6": ("严重", "hazardous"),
    "legend.crowding": ("景区", "Crowding"),
    "legend.crowding.1": ("舒适", "comfortable"),
    "legend.crowding.2": ("较舒适", "fair"),
    "legend.crowding.3": ("一般", "busy"),
    "legend.crowding.4": ("拥挤", "crowded"),
    "legend.crowding.5": ("饱和", "full"),
    "scope.district": ("山亭区", "Shanting District"),
    "scope.bad": ("无效的范围参数", "Invalid scope"),
    "scope.notfound": ("找不到该范围", "Scope not found"),
    "ticker.none": ("近 7 日暂无事件", "No events in the last 7 days"),
    "ticker.title": ("事件", "Events"),
    "export.map": ("导出地图", "Export map"),
    "export.csv": ("导出表格", "Export CSV"),
    "choropleth.label": ("镇街着色", "Colour towns by"),
    "domain.panel.transport": ("智慧交通", "Transport"),
    "domain.panel.video": ("治安视频", "Public-safety video"),
    "domain.panel.environment": ("生态环境", "Environment"),
    "domain.panel.tourism": ("文旅客流", "Tourism"),
    "domain.panel.rating": ("星级评估", "Star rating"),
    "map.approximate": (
        "镇街范围为示意范围，非法定边界；区界来源：天地图",
        "Town areas are approximate, not legal boundaries; outline: Tianditu",
    ),
}


def normalise(lang: str | None, default: str = "zh-CN") -> str:
    """A supported language code; anything else falls back to ``default``."""
    return lang if lang in LANGUAGES else default


def t(key: str, lang: str) -> str:
    """The text of ``key`` in ``lang`` (a missing key is a bug: KeyError)."""
    zh, en = TEXT[key]
    return en if lang == "en" else zh


def request_lang(default: str = "zh-CN") -> str:
    """The language of the current request (cookie), or ``default`` outside one."""
    from flask import has_request_context, request

    if not has_request_context():
        return default
    return normalise(request.cookies.get(COOKIE), default)
