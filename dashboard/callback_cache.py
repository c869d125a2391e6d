"""One answer per refresh for every screen showing the same thing.

A wall of screens on the same scene sends the same periodic callbacks: the same
outputs, the same scope, the same language; only their refresh counters differ.
Each of those requests used to go through Dash's dispatch and the scene's
assembly (tiles, layers, ticker) even when the data had not moved. Here the
answer to a callback *triggered by the periodic refresh alone* is kept in the
shared cache for one refresh interval, keyed by

- the request with the refresh counter blanked (outputs, inputs, state),
- the language the answer is rendered in,
- the feeds' data version (:meth:`dashboard.live.Live.version_token`), so a
  write is seen at once and a push is never answered with old data,
- what the caller may see (``principal``), so an answer is shared only between
  callers with the same view of the data.

Only refresh-triggered callbacks are cached: their answer is a function of that
key. A click, a typed filter or a navigation always reaches Dash, so no action
is ever skipped. Errors and "no update" answers are not kept.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, request
from flask_caching import Cache

from dashboard.i18n import request_lang
from layouts import ids

log = logging.getLogger(__name__)

#: The component properties that tick: their value says when, never what.
TICKS = frozenset({f"{ids.REFRESH}.n_intervals"})
DISPATCH = "/_dash-update-component"
#: Marks a response served from this cache (tests, benchmarks and curious operators read it).
HEADER = "X-Shanting-Callback-Cache"


def register(
    server: Flask,
    cache: Cache,
    version: Callable[[], str],
    ttl_s: int,
    default_lang: str,
    principal: Callable[[], str] = lambda: "",
) -> None:
    """Serve repeated refresh callbacks from ``cache``; register after every hook that must see each request."""

    @server.before_request
    def answer_from_cache() -> Response | None:
        if request.method != "POST" or not request.path.endswith(DISPATCH):
            return None
        body = request.get_json(silent=True, cache=True)
        key = refresh_key(body, request_lang(default_lang), version(), principal())
        if key is None:
            return None
        kept = cache.get(key)
        if kept is not None:
            return Response(kept, status=200, mimetype="application/json", headers={HEADER: "hit"})
        g.callback_cache_key = key
        return None

    @server.after_request
    def keep(response: Response) -> Response:
        key = g.pop("callback_cache_key", None)
        if key is not None and response.status_code == 200 and not response.direct_passthrough:
            try:
                cache.set(key, response.get_data(), timeout=ttl_s)
            except Exception:  # a cache that cannot keep it costs a recomputation, never the answer
                log.warning("callback answer not cached", exc_info=True)
            response.headers[HEADER] = "miss"
        return response


def refresh_key(body: Any, lang: str, version: str, principal: str) -> str | None:
    """The cache key of a callback request triggered by the periodic refresh alone, else None."""
    if not isinstance(body, dict):
        return None
    changed = body.get("changedPropIds")
    if not isinstance(changed, list) or not changed or not all(_is_tick(p) for p in changed):
        return None
    shape = {
        "output": body.get("output"),
        "outputs": body.get("outputs"),
        "inputs": _blank_ticks(body.get("inputs")),
        "state": body.get("state"),
    }
    text = json.dumps(shape, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.blake2b(text.encode(), digest_size=16).hexdigest()
    return f"callback:{version}:{lang}:{principal}:{digest}"


def _is_tick(prop_id: Any) -> bool:
    return isinstance(prop_id, str) and prop_id in TICKS


def _blank_ticks(value: Any) -> Any:
    """The inputs with each tick's value removed (lists nest for pattern-matching inputs)."""
    if isinstance(value, list):
        return [_blank_ticks(v) for v in value]
    if isinstance(value, dict) and f"{value.get('id')}.{value.get('property')}" in TICKS:
        return {k: v for k, v in value.items() if k != "value"}
    return value
