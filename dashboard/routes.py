"""Plain HTTP routes beside the Dash app: health, language, map layers, API, exports.

Bad input gets a clear status: a malformed scope or parameter is a 400 naming
the problem, an unknown town/village/asset or layer a 404, a failing feed a
503 for just that layer.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import pandas as pd
from dash.exceptions import DependencyException
from flask import Flask, Response, jsonify, redirect, request
from flask.typing import ResponseReturnValue

from dashboard import layers
from dashboard.access import DOMAINS, LAYER_DOMAINS, listed, tile_permission
from dashboard.i18n import COOKIE, LANGUAGES, request_lang, t
from dashboard.kpis import Tile
from dashboard.scenes import SCENES
from dashboard.scope import DISTRICT, Scope, ScopeError, ScopeForbidden, ScopeNotFound
from dashboard.services import Services
from dashboard.timeutil import fmt
from dashboard.views import may, resolve
from datasources import SourceError

log = logging.getLogger(__name__)

ONE_YEAR = 365 * 24 * 3600


class BadQuery(ValueError):
    """A query parameter naming nothing known (HTTP 400)."""


def register(server: Flask, services: Services) -> None:
    server.register_error_handler(ScopeError, lambda e: _problem(400, str(e)))
    server.register_error_handler(BadQuery, lambda e: _problem(400, str(e)))
    server.register_error_handler(ScopeNotFound, lambda e: _problem(404, str(e)))
    server.register_error_handler(ScopeForbidden, lambda e: _problem(403, str(e)))
    # A source that fails under a request (the store cannot write a command) is unavailable, not a bug: 503, why.
    server.register_error_handler(SourceError, lambda e: _problem(503, str(e)))
    # Dash answers a script path it does not serve (a typo, a probe for ../../etc/passwd) with an exception, a 500
    # and a page-long traceback in the log; it is a plain 404.
    server.register_error_handler(DependencyException, lambda e: _problem(404, "no such script or style sheet"))

    @server.get("/healthz")
    def healthz() -> tuple[Response, int]:
        snapshot = services.health()
        return jsonify(snapshot.as_json() | {"cache": services.cache_state()}), 200 if snapshot.store_ok else 503

    @server.get("/lang/<code>")
    def set_language(code: str) -> ResponseReturnValue:
        if code not in LANGUAGES:
            return _problem(400, f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}")
        target = request.args.get("next", "/")
        # Only same-site paths: never an open redirect.
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            target = "/"
        response = redirect(target)
        response.set_cookie(COOKIE, code, max_age=ONE_YEAR, samesite="Lax", httponly=True)
        return response

    @server.get("/geo/<name>")
    def geo(name: str) -> ResponseReturnValue:
        return _layer(services, name)

    @server.get("/api/v1/scenes")
    def api_scenes() -> ResponseReturnValue:
        return jsonify(
            {
                "scenes": [
                    {
                        "id": s.id,
                        "path": s.path,
                        "title_zh": t(f"scene.{s.id}", "zh-CN"),
                        "title_en": t(f"scene.{s.id}", "en"),
                        "built": s.built,
                    }
                    for s in SCENES
                ]
            }
        )

    @server.get("/api/v1/version")
    def api_version() -> ResponseReturnValue:
        """The feeds' data version: it changes when any versioned feed changes (screens poll it)."""
        response = jsonify({"version": services.live.version_token()})
        response.cache_control.no_store = True
        return response

    @server.get("/api/v1/kpis")
    def api_kpis() -> ResponseReturnValue:
        scope = resolve(request.args.get("scope"), services.live)
        tiles = visible_tiles(services, scope)
        return jsonify(
            {
                "scope": scope.key,
                "generated_at": services.now().isoformat(),
                "kpis": [_tile_json(tile) for tile in tiles],
            }
        )

    @server.get("/export/kpis.csv")
    def export_csv() -> ResponseReturnValue:
        from dashboard.export import csv_bytes

        domains = _domains(request.args.get("domain"))
        scope = resolve(request.args.get("scope"), services.live)
        lang = request_lang(services.settings.language)
        # The tiles the user's scenes show (a department head: their domains'), of the chosen domains if named.
        tiles = [tile for tile in visible_tiles(services, scope) if domains is None or tile.spec.domain in domains]
        frame = pd.DataFrame([_tile_row(tile, lang) for tile in tiles], columns=_tile_columns(lang))
        return _download(csv_bytes(frame), "text/csv; charset=utf-8", f"shanting-kpis-{_slug(scope)}.csv")

    @server.get("/export/camera-sites.csv")
    def export_camera_sites() -> ResponseReturnValue:
        from dashboard.export import csv_bytes
        from dashboard.live import Failed
        from dashboard.video_view import advice

        scope = resolve(request.args.get("scope"), services.live)
        n = request.args.get("n", "10")
        if not n.isdigit() or not 1 <= int(n) <= 500:
            return _problem(400, f"n must be a whole number from 1 to 500, got {n[:20]!r}")
        sites = advice(services.live, scope, int(n))
        if isinstance(sites, Failed):
            return _problem(503, f"feed {sites.feed} is unavailable: {sites.error}")
        columns = ["place_id", "name", "category", "town_code", "town_name", "lon", "lat", "gain", "covered"]
        frame = sites[columns].assign(coverage_rate=sites["coverage_rate"].round(4))
        frame.insert(0, "rank", range(1, len(frame) + 1))
        return _download(csv_bytes(frame), "text/csv; charset=utf-8", f"shanting-camera-sites-{_slug(scope)}.csv")

    @server.get("/export/rating.csv")
    def export_rating() -> ResponseReturnValue:
        from dashboard.export import csv_bytes
        from dashboard.live import Failed
        from dashboard.rating_view import indicator_table, scene

        department = request.args.get("dept") or None
        evaluation = scene(services).evaluation
        if isinstance(evaluation, Failed):
            return _problem(503, f"feed {evaluation.feed} is unavailable: {evaluation.error}")
        if department is not None and all(r.indicator.department != department for r in evaluation.results):
            return _problem(404, f"no indicator is answered by department {department[:60]!r}")
        table = indicator_table(evaluation, request_lang(services.settings.language), department)
        name = f"shanting-rating-{re.sub(r'[^0-9A-Za-z-]', '-', evaluation.period or 'latest')}.csv"
        return _download(csv_bytes(table), "text/csv; charset=utf-8", name)

    @server.get("/export/map.html")
    def export_map() -> ResponseReturnValue:
        from dashboard.views import briefing_map

        domains = _domains(request.args.get("domain"))
        named = listed(request.args.get("layers"))
        unknown = [n for n in named if n not in layers.LAYER_NAMES]
        if unknown:
            raise BadQuery(f"unknown layer {unknown[0]!r}; known layers: {', '.join(layers.LAYER_NAMES)}")
        # Base layers stay on a domain's map; named layers are exactly those (and the fixed basemap).
        only = set(named) if named else None
        if domains is not None:
            only = {n for n, d in LAYER_DOMAINS.items() if d in domains or d == "base"} & (only or set(LAYER_DOMAINS))
        scope = resolve(request.args.get("scope"), services.live)
        lang = request_lang(services.settings.language)
        html = briefing_map(services, scope, lang, request.args.get("kpi"), only)
        return _download(html.encode("utf-8"), "text/html; charset=utf-8", f"shanting-map-{_slug(scope)}.html")


def visible_tiles(services: Services, scope: Scope) -> list[Tile]:
    """The tiles at ``scope`` the signed-in user's scenes show (a department head: their domains'), as the tile
    callback checks them."""
    return [tile for tile in services.tiles(scope) if may(tile_permission(tile.spec.id))]


def _domains(value: str | None) -> set[str] | None:
    """The domains a ``domain=`` query names (None: not given); an unknown one is a 400."""
    names = listed(value)
    unknown = [d for d in names if d not in DOMAINS]
    if unknown:
        raise BadQuery(f"unknown domain {unknown[0]!r}; domains: {', '.join(DOMAINS)}")
    return set(names) if names else None


def _layer(services: Services, name: str) -> ResponseReturnValue:
    if name not in layers.LAYER_NAMES:
        return _problem(404, f"unknown layer {name!r}; known layers: {', '.join(layers.LAYER_NAMES)}")
    scope = resolve(request.args.get("scope"), services.live)
    kpi = request.args.get("kpi", services.settings.choropleth_kpi)
    options: dict[str, Any] = {"kpi": kpi} if name == "towns" else {}
    if name == "towns" and kpi not in layers.CHOROPLETH_KPIS:
        return _problem(400, f"kpi must be one of {', '.join(layers.CHOROPLETH_KPIS)}")
    variant: str | int = kpi if name == "towns" else ""
    if name in layers.ACCIDENT_LAYERS:
        days = request.args.get("days", "7")
        if not days.isdigit() or int(days) not in layers.ACCIDENT_DAYS:
            return _problem(400, f"days must be one of {', '.join(map(str, layers.ACCIDENT_DAYS))}")
        options["days"] = variant = int(days)
    try:
        body = layer_body(services, name, scope, variant, options)
    except layers.LayerUnavailable as exc:
        # The map shows an empty layer; its tiles and the health strip say why.
        response = Response('{"type":"FeatureCollection","features":[]}', mimetype="application/geo+json")
        response.headers["X-Layer-Unavailable"] = str(exc)[:200].encode("ascii", "replace").decode()
        response.cache_control.no_store = True
        return response
    etag = hashlib.sha1(body, usedforsecurity=False).hexdigest()  # an ETag, not a secret
    if request.if_none_match.contains(etag):
        return Response(status=304)
    if "gzip" in request.accept_encodings:
        response = Response(body, mimetype="application/geo+json")
        response.content_encoding = "gzip"
    else:
        response = Response(gzip.decompress(body), mimetype="application/geo+json")
    response.vary.add("Accept-Encoding")
    response.set_etag(etag)
    # URLs carry the data version, so a response may be kept for a long time.
    response.cache_control.public = True
    response.cache_control.max_age = 86400 if name in layers.STATIC else 3600
    return response


def layer_body(services: Services, name: str, scope: Scope, variant: str | int, options: dict[str, Any]) -> bytes:
    """A layer as gzipped GeoJSON, cached under its data version (raises :class:`layers.LayerUnavailable`)."""
    key = f"geo:{name}:{scope.key}:{variant}:{layers.version(name, services.live)}"

    def build() -> bytes:
        collection = layers.build(name, services.live, services.settings, scope, services.now(), **options)
        # GeoJSON, gzipped once and cached: smaller than geobuf for these layers
        # (3,000 cameras: ~40 KB vs ~134 KB), and an empty layer stays valid.
        text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
        return gzip.compress(text.encode("utf-8"), mtime=0)

    return _cached(services, key, build)


def warm(services: Services) -> float:
    """Compute what the overview's first screen asks for (the health strip, the district's tiles, the shared
    map layers with their default options) into the cache; the seconds it took. A server does this as it starts,
    so the first screen after a restart or deploy does not wait for every feed to be read and checked."""
    started = time.perf_counter()
    services.health()
    services.tiles(DISTRICT)
    kpi = services.settings.choropleth_kpi
    defaults: dict[str, tuple[str | int, dict[str, Any]]] = {
        "towns": (kpi, {"kpi": kpi}),
        "accidents": (7, {"days": 7}),
    }
    for spec in layers.LAYERS:
        if spec.shared and not spec.static:
            variant, options = defaults.get(spec.name, ("", {}))
            # A layer whose feed fails now is left out: the screens will say so, there is nothing to keep.
            with contextlib.suppress(layers.LayerUnavailable):
                layer_body(services, spec.name, DISTRICT, variant, options)
    return time.perf_counter() - started


def settle() -> None:
    """Collect, then freeze what is alive out of the cyclic collector's sight (:func:`gc.freeze`).

    A server holds some 250,000 tracked objects once started (modules, the app, its layouts and callbacks);
    every full collection walked them all, 0.2–0.25 s in the middle of some refresh every few dozen refreshes.
    Frozen objects are still freed when their last reference goes; only a cycle among them is never collected,
    so this runs before any data is read (data is replaced as it moves: frozen, its cycles would be kept).
    """
    gc.collect()
    gc.freeze()


def start_warming(services: Services, freeze: bool = False) -> threading.Thread:
    """:func:`warm` in a background thread (the server answers meanwhile; a screen arriving first shares the
    computations through the cache's locks), logging how long it took or why it failed. A server process
    (``freeze``) first freezes its start-up objects (:func:`settle`), before the warm-up reads any data."""

    def run() -> None:
        if freeze:
            settle()
        try:
            log.info("cache warmed for the overview in %.1f s", warm(services))
        except Exception:  # a warm-up is an optimisation: a failure leaves the cache cold, nothing else
            log.exception("warming the cache failed")

    thread = threading.Thread(target=run, name="warm-up", daemon=True)
    thread.start()
    return thread


def _cached(services: Services, key: str, build: Callable[[], bytes]) -> bytes:
    body = services.cache.get(key)
    if body is None:
        body = build()
        services.cache.set(key, body, timeout=max(60, int(services.settings.refresh_s)))
    return body  # type: ignore[no-any-return]


def _tile_json(tile: Tile) -> dict[str, Any]:
    spec = tile.spec
    return {
        "id": spec.id,
        "domain": spec.domain,
        "title_zh": spec.title_zh,
        "title_en": spec.title_en,
        "unit": "%" if spec.fmt == "pct" else spec.unit,
        "format": spec.fmt,
        "value": tile.value,
        "previous": tile.previous,
        "label": tile.label,
        "level": tile.level,
        "data_time": tile.data_time.isoformat() if tile.data_time else None,
        "stale": tile.stale,
        "failing": tile.failing,
        "degraded": tile.degraded,
        "note_zh": spec.note_zh or None,
    }


def _tile_columns(lang: str) -> list[str]:
    """The CSV's header, also when the user may see no tile at all."""
    zh = lang == "zh-CN"
    return (
        ["指标", "数值", "单位", "说明", "数据时间", "状态", "备注"]
        if zh
        else ["KPI", "value", "unit", "label", "data time", "state", "note"]
    )


def _tile_row(tile: Tile, lang: str) -> dict[str, Any]:
    zh = lang == "zh-CN"
    spec = tile.spec
    value = tile.value * 100 if tile.value is not None and spec.fmt == "pct" else tile.value
    return {
        "指标" if zh else "KPI": spec.title_zh if zh else spec.title_en,
        "数值" if zh else "value": value,
        "单位" if zh else "unit": "%" if spec.fmt == "pct" else spec.unit,
        "说明" if zh else "label": tile.label,
        "数据时间" if zh else "data time": fmt(tile.data_time),
        "状态" if zh else "state": "数据源异常" if tile.failing else ("数据过期" if tile.stale else tile.level),
        "备注" if zh else "note": spec.note_zh if zh else spec.note_en,
    }


def _slug(scope: Scope) -> str:
    return scope.key.replace(":", "-")


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, content_type=mimetype)  # as given: a mimetype gets a second "; charset=utf-8"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _problem(status: int, message: str) -> tuple[Response, int]:
    """A JSON error naming the problem. Messages may quote the bad input, so
    HTML-significant characters are unicode-escaped: the body can never be markup."""
    body = json.dumps({"error": message, "status": status}, ensure_ascii=False)
    for char, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e")):
        body = body.replace(char, escaped)
    return Response(body, status=status, mimetype="application/json"), status
