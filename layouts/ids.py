"""Every component ID in one place: a typo is an import error, not a dead callback."""

from __future__ import annotations

from typing import Any

URL = "url"
CLOCK = "clock"
CLOCK_TICK = "clock-tick"
REFRESH = "refresh"
HEALTH_STRIP = "health-strip"
LANG_LINK = "lang-link"
LOGOUT = "logout-button"
DATA_TABLE = "data-table"
DATA_UPDATED = "data-updated"
MAP = "map"
BREADCRUMB = "breadcrumb"
TICKER = "ticker"
CHOROPLETH_KPI = "choropleth-kpi"
EXPORT_MAP = "export-map"
EXPORT_CSV = "export-csv"
SCOPE_TITLE = "scope-title"


def nav(page: object) -> dict[str, object]:
    """A scene navigation link (pattern-matched to mark the active one)."""
    return {"type": "nav", "page": page}


def kpi(metric: object) -> dict[str, object]:
    """A KPI tile's body, filled by the one pattern-matching tile callback."""
    return {"type": "kpi", "metric": metric}


def layer(name: object) -> dict[str, object]:
    """A map layer (GeoJSON loaded from its URL)."""
    return {"type": "layer", "name": name}


def data_attrs(**values: str) -> dict[str, Any]:
    """``data-*`` attributes for a component (``data_attrs(feed="x")`` → ``data-feed``)."""
    return {f"data-{k.replace('_', '-')}": v for k, v in values.items()}


# ---- environment scene (生态环境): panel bodies the scene callback fills ----
ENV_AIR_NOW = "env-air-now"
ENV_TREND_24H = "env-trend-24h"
ENV_TREND_30D = "env-trend-30d"
ENV_RANKING = "env-ranking"
ENV_STATIONS = "env-stations"
ENV_WATER = "env-water"
ENV_RESERVOIRS = "env-reservoirs"
ENV_RADIATION = "env-radiation"
ENV_EPISODES = "env-episodes"

# ---- video scene (治安视频): panel bodies the scene callbacks fill ----
VID_HEALTH = "vid-health"
VID_AREAS = "vid-areas"
VID_OFFLINE = "vid-offline"
VID_COVERAGE = "vid-coverage"
VID_UNCOVERED = "vid-uncovered"
VID_N = "vid-n"
VID_ADVISOR = "vid-advisor"
VID_EXPORT = "vid-export"

# ---- tourism scene (文旅客流): panel bodies the scene callbacks fill ----
TOUR_AREAS = "tour-areas"
TOUR_WARNINGS = "tour-warnings"
TOUR_CROSSINGS = "tour-crossings"
TOUR_NEARBY = "tour-nearby"
TOUR_DAY = "tour-day"
TOUR_SPOT = "tour-spot"
TOUR_FORECAST = "tour-forecast"
TOUR_FORECAST_NOTE = "tour-forecast-note"
VID_TREND = "vid-trend-chart"
#: The advisor's sites on the video map (data set by the advisor callback, not loaded by URL).
VID_SITES = "vid-sites"
# ---- transport scene (智慧交通): panel bodies and inputs the scene callbacks fill / read ----
TRN_LINES = "trn-lines"
TRN_VEHICLES = "trn-vehicles"
TRN_TRIP = "trn-trip"
TRN_TRIP_SUM = "trn-trip-sum"
TRN_TPI = "trn-tpi"
TRN_TPI_CHART = "trn-tpi-chart"
TRN_WORST = "trn-worst"
TRN_STOP = "trn-stop"
TRN_ARRIVALS = "trn-arrivals"
TRN_PERIOD = "trn-period"
TRN_ACCIDENTS = "trn-accidents"
TRN_ACC_CHART = "trn-acc-chart"
TRN_PARKING = "trn-parking"
#: A hidden record of what the scene's panels on this page were filled from (layouts.transport.panel_update).
TRN_SHOWN = "trn-shown"


def trn_layer(name: object) -> dict[str, object]:
    """A transport map layer whose URL the scene sets (the accident period), not the shared refresh."""
    return {"type": "trn-layer", "name": name}


# ---- events (事件应对处置): filters, list, statistics, the event page's body and actions ----
EVT_DOMAIN = "evt-domain"
EVT_SEVERITY = "evt-severity"
EVT_STATE = "evt-state"
EVT_TOWN = "evt-town"
EVT_SINCE = "evt-since"
EVT_LIST = "evt-list"
EVT_STATS = "evt-stats"
EVT_HISTORY = "evt-history"
#: The event page's parts are pattern-matched ids: on the other pages their callbacks then see empty lists
#: instead of missing ids (a callback with ALL inputs runs everywhere, and a missing plain State is an error).
EVT_FIELDS = ("who", "department", "person", "note")


def evt_field(name: object) -> dict[str, object]:
    """A field of the event page's action form (who, department, person, note)."""
    return {"type": "evt-field", "name": name}


def evt_part(name: object) -> dict[str, object]:
    """A live part of the event page: ``message``, ``version`` (a counter bumped by each action), ``body``."""
    return {"type": "evt-part", "name": name}


def evt_action(action: object) -> dict[str, object]:
    """An action button of the event page (acknowledge, dispatch, …)."""
    return {"type": "evt-action", "action": action}


def evt_check(item: object) -> dict[str, object]:
    """A checklist step's toggle on the event page."""
    return {"type": "evt-check", "item": item}


# ---- big screens (/screen/<id>) and the operator console (/console) ----
#: The screen frame's parts (``root``, ``mode``, ``now``, ``since`` and ``tick``, its own poll clock) are
#: pattern-matched: the poll's callback then sees empty lists on other pages instead of missing ids.
SCREEN_PARTS = ("root", "mode", "now", "since", "tick")


def screen_part(name: object, frame: object = "frame") -> dict[str, object]:
    """A part of the big-screen frame that the screen's poll reads or writes (callbacks match ``frame=ALL``)."""
    return {"type": "screen-part", "name": name, "frame": frame}


CONSOLE_TICK = "console-tick"
CONSOLE_ALARMS = "console-alarms"
#: The signature of the alarms listed, so the list (and its buttons) is re-rendered only when it changes.
CONSOLE_HELD = "console-held"
#: The console's per-screen parts are pattern-matched (one set per configured screen).
SCREEN_FIELDS = ("scene", "scope")
SCREEN_COMMANDS = ("show", "pin", "run", "pause", "resume")


def console_part(name: object) -> dict[str, object]:
    """A part of the console the command callbacks write (``message``); pattern-matched, so the callbacks
    that write it see an empty list on other pages instead of a missing id."""
    return {"type": "console-part", "name": name}


def scr_status(screen: object) -> dict[str, object]:
    """A screen's live status cell on the console (online, last seen, what it shows)."""
    return {"type": "scr-status", "screen": screen}


def scr_field(screen: object, name: object) -> dict[str, object]:
    """A screen's scene or scope chooser on the console."""
    return {"type": "scr-field", "screen": screen, "name": name}


def scr_cmd(screen: object, command: object) -> dict[str, object]:
    """A console button sending ``command`` (show, pin, run, pause, resume) to a screen."""
    return {"type": "scr-cmd", "screen": screen, "command": command}


def scr_ack(event: object) -> dict[str, object]:
    """The console's acknowledge button of an event holding screens."""
    return {"type": "scr-ack", "event": event}


# ---- 星级评估 star rating ----
RAT_STANDING = "rat-standing"
RAT_TREE = "rat-tree"
RAT_DEPT = "rat-dept"
RAT_TASKS = "rat-tasks"
RAT_TARGET = "rat-target"
RAT_PLAN = "rat-plan"
RAT_IMPORT_KIND = "rat-import-kind"
RAT_UPLOAD = "rat-upload"
RAT_IMPORT_MSG = "rat-import-msg"
RAT_FORM_TASK = "rat-form-task"
RAT_FORM_STATUS = "rat-form-status"
RAT_FORM_PERCENT = "rat-form-percent"
RAT_FORM_NOTE = "rat-form-note"
RAT_FORM_EVIDENCE = "rat-form-evidence"
RAT_FORM_SUBMIT = "rat-form-submit"
RAT_FORM_MSG = "rat-form-msg"
