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
    # ---- environment scene (生态环境) ----
    "env.panel.aqi": ("空气质量", "Air quality"),
    "env.panel.trend24": ("24 小时 AQI", "AQI, last 24 h"),
    "env.panel.trend30": ("近 30 日日 AQI", "Daily AQI, last 30 days"),
    "env.panel.ranking": ("镇街空气质量排名", "Towns by AQI"),
    "env.panel.stations": ("空气自动站", "Air stations"),
    "env.panel.water": ("水质断面", "Water sections"),
    "env.panel.reservoirs": ("水库水位", "Reservoir levels"),
    "env.panel.radiation": ("辐射环境", "Radiation"),
    "env.panel.episodes": ("污染过程", "Pollution episodes"),
    "env.aqi.hourly": ("实时 AQI · HJ 633 小时值", "Real-time AQI · HJ 633 hourly"),
    "env.aqi.yesterday": ("昨日 AQI", "Yesterday's AQI"),
    "env.aqi.good_days": ("近30日优良", "Good days (30 d)"),
    "env.aqi.days": ("天", "d"),
    "env.primary": ("首要污染物", "Primary"),
    "env.primary.none": ("无", "none"),
    "env.iaqi": ("分指数 IAQI", "IAQI per pollutant"),
    "env.col.station": ("站点", "Station"),
    "env.col.category": ("类别", "Category"),
    "env.col.daily": ("日AQI", "Daily"),
    "env.col.time": ("时间", "Time"),
    "env.scope.stations": ("站点均值", "station mean"),
    "env.none.stations": ("本范围内无空气站", "No air station in this scope"),
    "env.none.water": ("本范围内无水质断面", "No water section in this scope"),
    "env.none.reservoirs": ("本范围内无水库", "No reservoir in this scope"),
    "env.none.radiation": ("本范围内无辐射站", "No radiation station in this scope"),
    "env.none.episodes": ("近 48 小时无污染过程", "No episode in the last 48 h"),
    "env.none.data": ("无数据", "no data"),
    "env.episode.rule": ("小时 AQI > {aqi} 连续 ≥ {hours} 小时", "hourly AQI > {aqi} for ≥ {hours} h"),
    "env.episode.ongoing": ("持续中", "ongoing"),
    "env.episode.summary": (
        "持续中 {ongoing} 站 · 48 小时内已结束 {ended} 次",
        "{ongoing} ongoing · {ended} ended in 48 h",
    ),
    "env.episode.hours": ("{n} 小时", "{n} h"),
    "env.episode.peak": ("峰值", "peak"),
    "env.water.target": ("目标", "target"),
    "env.water.meets": ("达标", "on target"),
    "env.water.misses": ("未达标", "off target"),
    "env.water.deciding": ("定类", "deciding"),
    "env.water.trend": ("近 3 日类别", "class, last 3 days"),
    "env.water.note": (
        "GB 3838 单因子评价；水库按湖库标准计总磷、总氮",
        "GB 3838 single factor; reservoirs graded as lakes (TP, TN)",
    ),
    "env.item.do": ("溶解氧", "DO"),
    "env.item.codmn": ("高锰酸盐指数", "CODMn"),
    "env.item.cod": ("化学需氧量", "COD"),
    "env.item.bod5": ("五日生化需氧量", "BOD₅"),
    "env.item.nh3n": ("氨氮", "NH₃-N"),
    "env.item.tp": ("总磷", "TP"),
    "env.item.tn": ("总氮", "TN"),
    "env.item.ph": ("pH", "pH"),
    "env.res.flood_limit": ("汛限", "flood limit"),
    "env.res.design_flood": ("设计", "design flood"),
    "env.res.check_flood": ("校核", "check flood"),
    "env.res.normal_pool": ("正常蓄水位", "normal pool"),
    "env.res.below_flood": ("低于汛限 {m} m", "{m} m below flood limit"),
    "env.res.above_flood": ("超汛限 {m} m", "{m} m above flood limit"),
    "env.res.below_pool": ("低于正常蓄水位 {m} m", "{m} m below normal pool"),
    "env.res.above_pool": ("高于正常蓄水位 {m} m", "{m} m above normal pool"),
    "env.res.unknown": ("特征水位未公布", "characteristic levels not published"),
    "env.rad.baseline": ("本底", "baseline"),
    "env.rad.alert": ("告警", "alert"),
    "env.rad.normal": ("正常", "normal"),
    "env.rad.rule": (
        "告警规则：剂量率 > {factor}× 本站本底（假设值，可配置）",
        "alert when dose rate > {factor}× the station's baseline (assumed, configurable)",
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
