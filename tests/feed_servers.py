"""A store's feeds delivered the other ways departments deliver them: as dropped files, and as an HTTP JSON API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import shapely
from flask import Flask, Response, request
from werkzeug.serving import make_server

from datasources.base import BaseSource
from datasources.contracts import CONTRACTS

#: One big series feed goes as Parquet, so every file format is exercised.
PARQUET = {"segment_speeds"}


def export_files(source: BaseSource, directory: Path) -> Path:
    """Every feed of ``source`` as ``<feed>.csv|.geojson|.parquet`` in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for feed, spec in CONTRACTS.items():
        frame = source.read(feed).frame
        geometry = next((c.name for c in spec.columns if c.type == "geometry"), None)
        if geometry:
            features = [
                {"type": "Feature", "geometry": shapely.geometry.mapping(row[geometry]),
                 "properties": {k: _plain(v) for k, v in row.items() if k != geometry}}
                for row in frame.to_dict("records")
            ]  # fmt: skip
            (directory / f"{feed}.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": features}))
        elif feed in PARQUET:
            frame.to_parquet(directory / f"{feed}.parquet")
        else:
            frame.map(_plain).to_csv(directory / f"{feed}.csv", index=False, encoding="utf-8-sig")
    return directory


def _plain(value: Any) -> Any:
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def api(source: BaseSource) -> Flask:
    """A department API over ``source``: GET /<feed>?start=&end= answers a JSON array of rows."""
    app = Flask("department-api")

    @app.get("/")
    def root() -> Response:
        return Response("{}", mimetype="application/json")

    @app.get("/<feed>")
    def rows(feed: str) -> Response:
        bounds = {k: datetime.fromisoformat(request.args[k]) for k in ("start", "end") if k in request.args}
        frame = source.read(feed, **bounds).frame
        out = [
            {k: shapely.geometry.mapping(v) if isinstance(v, shapely.Geometry) else _plain(v) for k, v in r.items()}
            for r in frame.to_dict("records")
        ]
        return Response(json.dumps(out), mimetype="application/json")

    return app


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """``app`` (any WSGI app) on a free loopback port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class Faulty:
    """A WSGI wrapper that makes a department API misbehave on demand: ``mode`` is one of
    ``ok`` (pass through), ``timeout`` (answers after ``delay_s``), ``500``, ``garbage`` (not JSON) or
    ``wrong_shape`` (JSON, but not an array of rows)."""

    MODES = ("ok", "timeout", "500", "garbage", "wrong_shape")

    def __init__(self, app: Flask, delay_s: float = 2.0) -> None:
        self.app, self.delay_s, self.mode = app, delay_s, "ok"

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.mode == "ok" or environ.get("PATH_INFO") == "/":
            return self.app(environ, start_response)
        if self.mode == "timeout":
            time.sleep(self.delay_s)
            return self.app(environ, start_response)
        status, body = {
            "500": ("500 INTERNAL SERVER ERROR", b"upstream database down"),
            "garbage": ("200 OK", b"<html><body>\xe7\xbb\xb4\xe6\x8a\xa4\xe4\xb8\xad</body></html>"),
            "wrong_shape": ("200 OK", b'{"data": {"rows": 3}}'),
        }[self.mode]
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]
