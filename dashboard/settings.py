"""Typed settings: a TOML file plus ``SHANTING_*`` environment variables.

Precedence: environment > file > defaults. Unknown keys are errors that name
the key and suggest the nearest valid one. Secrets (the session key, database
passwords) are accepted only from the environment, never from the file, so a
configuration file can be committed and shared.

Nested keys in the environment use ``__``: ``SHANTING_SERVER__PORT=8060``.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from difflib import get_close_matches
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url

from datasources.contracts import CONTRACTS, FEEDS

ENV_PREFIX = "SHANTING_"
CONFIG_ENV = "SHANTING_CONFIG"
DEFAULT_CONFIG = Path("shanting.toml")
#: Keys that hold secrets: refused in the file, read from the environment.
SECRET_KEYS = ("secret_key",)
#: A screen id: it appears in URLs and the store.
SCREEN_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")


#: KPIs a 镇街 choropleth can show (cheap per town, meaningful by area).
ChoroplethKpi = Literal["working_rate", "aqi", "networking_rate", "visitors", "parking"]


class ConfigError(ValueError):
    """Invalid configuration; the message names every bad key."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerSettings(Section):
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8050, ge=1, le=65535)
    threads: int = Field(8, ge=1, le=128, description="embedded server threads")
    proxy_hops: int = Field(
        0,
        ge=0,
        le=5,
        description="reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are believed "
        "(the client address of the login limit and the audit log); 0: the headers are ignored",
    )


class SimulatorSettings(Section):
    enabled: bool = Field(True, description="`serve` runs the live simulator beside the web server")
    seed: int = Field(3704, description="same seed, same synthetic district in every process")
    scale: Literal[1, 10] = Field(1, description="asset multiplier (×10 for benchmarks)")
    history_days: int = Field(30, ge=1, le=366, description="days of history written by `seed`")
    interval_s: float = Field(5.0, ge=1.0, le=3600.0, description="seconds between live writes")
    publish: Literal["store", "mqtt"] = Field(
        "store", description="write live rows straight into the store, or publish them to MQTT for the ingester"
    )


class MqttSettings(Section):
    """The MQTT broker sensors publish to, and how the ingester (`python -m dashboard ingest`) reads it."""

    url: str = Field("mqtt://127.0.0.1:1883", description="broker URL (mqtt://[user[:password]@]host[:port])")
    topic_prefix: str = Field("shanting", min_length=1, max_length=100, description="topics are <prefix>/<feed>")
    client_id: str = Field("shanting-ingest", min_length=1, max_length=100, description="the persistent session's id")
    batch_size: int = Field(500, ge=1, le=10000, description="messages written to the store in one transaction")
    batch_ms: int = Field(200, ge=10, le=10000, description="longest a message waits for its batch to fill")
    session_expiry_s: int = Field(
        7 * 86400, ge=60, description="how long the broker keeps messages for a stopped ingester (persistent session)"
    )


class TileLayerSettings(Section):
    """An optional raster basemap; the map works without one (offline basemap)."""

    url: str = Field(description="tile URL template, e.g. an intranet tile server's {z}/{x}/{y}.png")
    attribution: str = Field(description="credit shown on the map (required by most providers)")
    datum: Literal["wgs84", "cgcs2000", "gcj02"] = Field(
        description="the tiles' datum: WGS84/CGCS2000 as is; GCJ-02 (Gaode/Tencent) shifts our layers to match"
    )
    max_zoom: int = Field(18, ge=1, le=22)


class EnvironmentSettings(Section):
    """Rules of the environment scene (生态环境)."""

    episode_aqi: int = Field(100, ge=0, le=500, description="hourly AQI above which an hour counts toward an episode")
    episode_hours: int = Field(2, ge=1, le=72, description="consecutive hours above episode_aqi that make an episode")
    radiation_alert_factor: float = Field(
        2.0, gt=1.0, le=100.0, description="alert when dose > factor × station baseline (assumption, REFERENCE.md §8)"
    )


class CapacitySettings(Section):
    """One scenic area's capacities: entered directly, or computed with LB/T 034-2014 from its areas."""

    instant: int | None = Field(None, ge=1, description="instantaneous maximum capacity (visitors)")
    daily: int | None = Field(None, ge=1, description="daily maximum capacity (visitors)")
    areas_m2: list[float] | None = Field(None, description="LB/T 034: visitable areas Xi (m²)")
    per_visitor_m2: list[float] | None = Field(None, description="LB/T 034: area per visitor Yi (m²) for each area")
    opening_hours: float | None = Field(None, gt=0, le=24, description="LB/T 034: opening hours T")
    visit_hours: float | None = Field(None, gt=0, le=24, description="LB/T 034: mean visit length t")

    @model_validator(mode="after")
    def _one_way(self) -> CapacitySettings:
        formula = (self.areas_m2, self.per_visitor_m2, self.opening_hours, self.visit_hours)
        if any(v is not None for v in formula):
            if any(v is None for v in formula):
                raise ValueError("LB/T 034 needs areas_m2, per_visitor_m2, opening_hours and visit_hours together")
            if self.instant is not None or self.daily is not None:
                raise ValueError("give either instant/daily or the LB/T 034 areas, not both")
            from dashboard.domain.tourism import capacity_lbt034

            capacity_lbt034(*formula)  # type: ignore[arg-type]
        elif self.instant is None:
            raise ValueError("give instant (and optionally daily) or the LB/T 034 areas")
        return self

    def capacities(self) -> tuple[int | None, int | None]:
        """(instantaneous, daily); daily None when only the instantaneous capacity was entered."""
        if self.areas_m2 is not None:
            from dashboard.domain.tourism import capacity_lbt034

            return capacity_lbt034(self.areas_m2, self.per_visitor_m2, self.opening_hours, self.visit_hours)  # type: ignore[arg-type]
        return self.instant, self.daily


class TourismSettings(Section):
    """Rules of the tourism scene (文旅客流). Bands, margins and capacities are assumptions, labelled as such."""

    bands: list[tuple[float, str, str]] | None = Field(
        None, description="crowding bands [[lower_ratio, zh, en], …] from 0 up; default REFERENCE.md §6 (assumed)"
    )
    warning_at: float = Field(0.8, gt=0, lt=10, description="early warning at this share of the instant capacity")
    limit_at: float = Field(1.0, gt=0, le=10, description="limit (stop ticket sales) at this share")
    rearm_margin: float = Field(
        0.05, ge=0, lt=1, description="an alarm re-arms only below its level minus this share (no flapping)"
    )
    forecast_hours: int = Field(6, ge=1, le=12, description="hours ahead the forecast reaches")
    history_days: int = Field(28, ge=7, le=120, description="days of history the forecast and its back-test use")
    diversion_below: float = Field(0.7, gt=0, le=1, description="suggest areas that stay below this load")
    diversion_count: int = Field(3, ge=1, le=10, description="suggestions per crowded area")
    near_m: float = Field(2500.0, gt=0, le=20000, description="entrances and parking lots within this distance")
    uplift: dict[str, float] = Field(
        default_factory=lambda: {"workday": 1.0, "leisure": 3.0, "holiday": 5.0, "golden": 7.0},
        description="visitors by kind of day relative to a workday, for a kind with no history yet (assumed)",
    )
    capacities: dict[str, CapacitySettings] = Field(
        default_factory=dict, description="per spot_id: capacities that replace the feed's (entered or LB/T 034)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> TourismSettings:
        from dashboard.domain.tourism import alarm_levels, validate_bands

        if self.bands is not None:
            validate_bands(self.bands)
        alarm_levels(self.warning_at, self.limit_at, self.rearm_margin)
        missing = {"workday", "leisure", "holiday", "golden"} - set(self.uplift)
        if missing or any(v <= 0 for v in self.uplift.values()):
            raise ValueError(f"uplift needs positive workday, leisure, holiday and golden (missing: {sorted(missing)})")
        return self


class VideoSettings(Section):
    """Rules of the public-safety video scene (治安视频)."""

    radius_m: float = Field(
        100.0, gt=0, le=2000, description="view radius of a key place the feed gives none for; also of a grid cell"
    )
    grid_m: float = Field(500.0, ge=100, le=5000, description="blind-spot grid: cell side in metres")
    min_population: float = Field(50.0, ge=0, description="a grid cell with at least this many residents is populated")
    spread_m: float = Field(
        400.0, ge=50, le=5000, description="residents spread around their 村居 point (Gaussian σ, metres)"
    )


class EventsSettings(Section):
    """Events and dispatch (事件应对处置): the rule catalogue, escalation and who may be dispatched to."""

    rules_file: Path | None = Field(
        None,
        description="a TOML file of [[rule]] entries that add to or replace (by id) the shipped dashboard/rules.toml",
    )
    disabled: list[str] = Field(default_factory=list, description="rule ids switched off")
    escalate_after_min: float = Field(
        15.0, gt=0, le=1440, description="a new event nobody acknowledged within this is escalated (logged and marked)"
    )
    departments: list[str] = Field(
        default_factory=lambda: [
            "生态环境分局",
            "水务局",
            "公安分局",
            "交警大队",
            "文化和旅游局",
            "大数据中心",
            "应急管理局",
        ],
        description="departments an event can be dispatched to (free text is accepted too)",
    )


class PlaylistItemSettings(Section):
    """One entry of a screen's playlist: a scene at a scope, or at every 镇街 in turn."""

    scene: str = Field(description="a scene id (see /api/v1/scenes)")
    scope: str = Field("district", description="district, town:<code>, village:<code> or asset:<feed>:<id>")
    each_town: bool = Field(False, description="show the scene at every 镇街 in turn, each for dwell_s")
    dwell_s: float = Field(60.0, ge=2.0, le=3600.0, description="seconds this item (each 镇街 of it) stays up")

    @model_validator(mode="after")
    def _known(self) -> PlaylistItemSettings:
        from dashboard.scenes import SCENES
        from dashboard.scope import parse

        scenes = [s.id for s in SCENES]
        if self.scene not in scenes:
            raise ValueError(f"unknown scene {self.scene!r}{_did_you_mean(self.scene, scenes)}")
        parse(self.scope)  # ScopeError (a ValueError) names a malformed scope
        if self.each_town and self.scope != "district":
            raise ValueError("each_town shows every 镇街 in turn; leave scope at district")
        return self


class ScreenSettings(Section):
    """A big screen (``/screen/<id>``): its name, its playlist, which alarms may take it over."""

    name: str = Field(min_length=1, max_length=40, description="what the console calls the screen")
    playlist: list[PlaylistItemSettings] = Field(min_length=1, description="the rotation, in order")
    alarm_severity: int | None = Field(
        3, ge=1, le=4, description="unacknowledged events at or above this severity take the screen over; none: never"
    )


def _default_screens() -> dict[str, ScreenSettings]:
    scenes = ("overview", "transport", "video", "environment", "tourism")
    items = [PlaylistItemSettings(scene=s, dwell_s=60.0) for s in scenes]
    return {"main": ScreenSettings(name="主屏", playlist=items)}


class RatingSettings(Section):
    """Rules of the star-rating scene (星级评估): how stars combine (an assumption: the standard's rule is not
    public), what counts as stale or lagging, what a step costs, and which values other scenes' feeds supply."""

    bonus_cap: float = Field(0.5, ge=0, le=5, description="地方特色 bonus never adds more than this to the composite")
    bonus_mode: Literal["mean", "sum"] = Field(
        "mean", description="mean: weighted mean bonus star / 5 × cap; sum: bonus_per_star × Σ weight × star, capped"
    )
    bonus_per_star: float = Field(0.05, ge=0, le=1, description="bonus points per weighted star (bonus_mode = sum)")
    mandatory_rule: bool = Field(True, description="the district star is at most the lowest mandatory star + slack")
    mandatory_slack: int = Field(0, ge=0, le=5, description="how far mandatory indicators may trail the district")
    stale_quarters: int = Field(2, ge=0, le=20, description="a value older than this many quarters is stale")
    target_star: int = Field(4, ge=1, le=5, description="the star the planner aims for at start (2023 goal: 4)")
    step_cost: float = Field(1.0, ge=0, description="effort of one indicator star step unless costs names it")
    costs: dict[str, float | list[float]] = Field(
        default_factory=dict, description="indicator id → effort per step, or five efforts (steps to star 1…5)"
    )
    lag_points: float = Field(
        15.0, ge=0, le=100, description="a task is lagging when its percent trails the share of its time gone by this"
    )
    derived: dict[str, str] = Field(
        default_factory=lambda: {"HM-02": "bus_prediction", "ZF-07": "key_place_coverage", "ZF-08": "air_monitoring"},
        description="indicator id → a value computed from another scene's feeds (bus_prediction, "
        "key_place_coverage, air_monitoring); the rest come from department entry",
    )

    @field_validator("derived")
    @classmethod
    def _known_derivations(cls, value: dict[str, str]) -> dict[str, str]:
        known = ("bus_prediction", "key_place_coverage", "air_monitoring")
        for indicator, name in value.items():
            if name not in known:
                hint = get_close_matches(name, known, n=1)
                did = f" (did you mean {hint[0]!r}?)" if hint else ""
                raise ValueError(f"{indicator}: unknown derivation {name!r}{did}; known: {', '.join(known)}")
        return value

    @field_validator("costs")
    @classmethod
    def _five_steps(cls, value: dict[str, float | list[float]]) -> dict[str, float | list[float]]:
        for indicator, cost in value.items():
            steps = cost if isinstance(cost, list) else [cost]
            if (isinstance(cost, list) and len(cost) != 5) or any(c < 0 for c in steps):
                raise ValueError(f"costs of {indicator}: one effort ≥ 0 or five (the steps to star 1…5)")
        return value


class AuthSettings(Section):
    """Who may sign in and how (issue #9): sessions, the development shortcut, a trusted proxy's user header."""

    trust_localhost: bool = Field(
        False,
        description="UNSAFE behind a reverse proxy: requests from 127.0.0.1/::1 act as an admin without login "
        "(development and tests only; refused when production is on)",
    )
    proxy_header: str | None = Field(
        None, max_length=64, description="header a trusted reverse proxy sets to the signed-in user's name"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list, description="addresses whose proxy_header is believed (exact remote addresses)"
    )
    login_limit: str = Field(
        "10 per minute", description="login attempts allowed per client address (Flask-Limiter syntax)"
    )
    session_hours: float = Field(12.0, gt=0, le=24 * 60, description="a session ends after this long without use")
    demo_accounts: bool = Field(
        True, description="`serve` creates one account per role on an empty user table (random passwords, printed once)"
    )

    @model_validator(mode="after")
    def _header_needs_proxies(self) -> AuthSettings:
        # Half a configuration would silently sign nobody in; say so at start instead.
        if self.proxy_header and not self.trusted_proxies:
            raise ValueError("proxy_header is believed only from trusted_proxies: list the proxy's addresses")
        return self


#: Secret keys that are placeholders, not secrets: production refuses them.
DEFAULT_SECRETS = frozenset({"", "dev", "secret", "changeme", "change-me", "default", "shanting", "development"})


class SourceSettings(Section):
    """One datasource: its kind plus the kind's own options (checked by the kind)."""

    model_config = ConfigDict(extra="allow", frozen=True)
    kind: str

    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True)

    data_dir: Path = Field(Path("data"), description="where the embedded store lives")
    store_url: str | None = Field(None, description="SQLAlchemy URL of the store; default SQLite in data_dir")
    cache_url: str | None = Field(
        None,
        description="Redis URL of the cache all workers share (e.g. redis://127.0.0.1:6379/0); "
        "none = each process caches alone",
    )
    cache_prefix: str = Field("shanting:", min_length=1, max_length=64, description="prefix of this app's cache keys")
    language: Literal["zh-CN", "en"] = Field("zh-CN", description="default UI language")
    refresh_s: float = Field(5.0, ge=1.0, le=600.0, description="how often screens refresh live data")
    server: ServerSettings = ServerSettings()
    simulator: SimulatorSettings = SimulatorSettings()
    sources: dict[str, SourceSettings] = Field(
        default_factory=lambda: {"store": SourceSettings(kind="sql")},
        description="named datasources; `store` is the writable one",
    )
    store: str = Field("store", description="name of the source that stores the product's data")
    feeds: dict[str, str] = Field(default_factory=dict, description="feed → source name (default: the store)")
    freshness_s: dict[str, float] = Field(default_factory=dict, description="per-feed staleness limit overrides")
    tiles: TileLayerSettings | None = Field(None, description="optional tile basemap; none = offline basemap only")
    choropleth_kpi: ChoroplethKpi = Field("working_rate", description="KPI the town areas are coloured by at start")
    environment: EnvironmentSettings = EnvironmentSettings()
    mqtt: MqttSettings = MqttSettings()
    tourism: TourismSettings = TourismSettings()
    video: VideoSettings = VideoSettings()
    events: EventsSettings = EventsSettings()
    screens: dict[str, ScreenSettings] = Field(
        default_factory=_default_screens, description="big screens by id (/screen/<id>) with their playlists"
    )
    rating: RatingSettings = RatingSettings()
    secret_key: SecretStr | None = Field(None, description="session signing key (environment only)")
    production: bool = Field(
        False, description="refuse to start without a real secret_key; Secure cookies; no trust_localhost"
    )
    auth: AuthSettings = AuthSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init kwargs; the environment overrides them.
        return (env_settings, init_settings)

    @field_validator("feeds", "freshness_s")
    @classmethod
    def _known_feeds(cls, value: dict[str, Any]) -> dict[str, Any]:
        for feed in value:
            if feed not in CONTRACTS:
                raise ValueError(f"unknown feed {feed!r}{_did_you_mean(feed, FEEDS)}")
        return value

    @field_validator("screens")
    @classmethod
    def _screen_ids(cls, value: dict[str, ScreenSettings]) -> dict[str, ScreenSettings]:
        for screen_id in value:
            if not SCREEN_ID.fullmatch(screen_id):
                raise ValueError(f"screen id {screen_id[:40]!r}: use 1-32 of a-z, 0-9, - and _, starting with a letter")
        return value

    @model_validator(mode="after")
    def _routes_exist(self) -> Settings:
        names = set(self.sources)
        if self.store not in names:
            raise ValueError(f"store {self.store!r} is not among sources ({', '.join(sorted(names))})")
        for feed, source in self.feeds.items():
            if source not in names:
                raise ValueError(f"feeds.{feed}: no source named {source!r}{_did_you_mean(source, names)}")
        return self

    @model_validator(mode="after")
    def _production_is_safe(self) -> Settings:
        if not self.production:
            return self
        if self.auth.trust_localhost:
            raise ValueError("auth.trust_localhost skips login and is refused when production is on")
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if key.strip().lower() in DEFAULT_SECRETS or len(key) < 32:
            raise ValueError(
                f"production needs {ENV_PREFIX}SECRET_KEY: a random secret of at least 32 characters "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))'), not a missing or default one"
            )
        return self

    @property
    def resolved_store_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_dir / 'shanting.db').resolve()}"


def load_settings(path: str | Path | None = None, **overrides: Any) -> Settings:
    """Settings from ``path`` (or $SHANTING_CONFIG, or ./shanting.toml if present).

    Raises :class:`ConfigError` whose message names every bad key.
    """
    # Sources named in the file add to the default store rather than replace it.
    data: dict[str, Any] = {"sources": {"store": {"kind": "sql"}}}
    _merge(data, _read_file(_config_path(path)))
    _merge(data, overrides)
    try:
        return Settings(**data)
    except ValidationError as exc:
        raise ConfigError(explain(exc)) from None


def _config_path(path: str | Path | None) -> Path | None:
    if path is not None:
        return Path(path)
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def _read_file(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"configuration file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    _refuse_secrets(data, path)
    return data


def _refuse_secrets(data: Mapping[str, Any], path: Path) -> None:
    for key in SECRET_KEYS:
        if key in data:
            raise ConfigError(f"{path}: {key} is a secret; set {ENV_PREFIX}{key.upper()} in the environment instead")
    urls = [(k, data.get(k), f"{ENV_PREFIX}{k.upper()}") for k in ("store_url", "cache_url")]
    urls.append(("mqtt.url", (data.get("mqtt") or {}).get("url"), f"{ENV_PREFIX}MQTT__URL"))
    urls += [
        (f"sources.{n}.url", s.get("url"), f"{ENV_PREFIX}SOURCES__{n.upper()}__URL")
        for n, s in (data.get("sources") or {}).items()
        if isinstance(s, dict)
    ]
    for key, url, variable in urls:
        if isinstance(url, str) and _has_password(url):
            raise ConfigError(f"{path}: {key} contains a password; set {variable} in the environment instead")


def _has_password(url: str) -> bool:
    try:
        return make_url(url).password is not None
    except Exception:
        return False


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def explain(exc: ValidationError) -> str:
    """One line per problem, naming the key, what is allowed and the nearest valid key."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            parent, _, key = loc.rpartition(".")
            lines.append(f"unknown key {loc!r}{_did_you_mean(key, _allowed(parent))}")
        else:
            got = err.get("input")
            shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
            lines.append(f"{loc or 'settings'}: {err['msg']}{shown}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def _allowed(parent: str) -> list[str]:
    model: type[BaseModel] = Settings
    for part in filter(None, parent.split(".")):
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None)
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _did_you_mean(word: str, choices: Any) -> str:
    choices = list(choices)
    hint = get_close_matches(word, choices, n=1)
    if hint:
        return f" (did you mean {hint[0]!r}?)"
    return f"; allowed: {', '.join(choices)}" if choices else ""
