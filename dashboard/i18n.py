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
