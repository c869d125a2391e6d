"""The ``http`` kind: a department's JSON API, polled with a timeout, retries with backoff, and the contract check.

For each feed the source GETs ``<base_url>/<path>`` (``path`` defaults to the
feed's name) with ``start`` and ``end`` as ISO 8601 query parameters for
timed feeds. The answer is a JSON array of objects with the contract's keys, or
an object holding that array under ``rows`` (``{"rows": [...]}``). A timeout,
a 5xx answer or a dropped connection is retried with exponential backoff; what
still fails, or answers with something that is not such JSON, fails the feed
with a message that says which URL and why: its tiles say 数据源异常, the rest
of the screen works.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

import pandas as pd
import requests
from pydantic import Field
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util import Retry

from datasources.base import BaseSource, SourceError, SourceOptions
from datasources.contracts import contract
from datasources.registry import register


class HttpOptions(SourceOptions):
    base_url: str = Field(description="the API's root, e.g. http://jtj.internal/api/v1")
    feeds: tuple[str, ...] = Field(description="feeds this API serves")
    paths: dict[str, str] = Field(default_factory=dict, description="feed → path under base_url (default: the feed)")
    timeout_s: float = Field(5.0, gt=0, le=120, description="per request (connect and read)")
    retries: int = Field(3, ge=0, le=10, description="retries of timeouts, dropped connections and 5xx answers")
    backoff_s: float = Field(0.5, ge=0, le=30, description="first retry delay; doubles each time")
    token_env: str | None = Field(None, description="environment variable holding a bearer token (never the file)")


@register("http")
class HttpSource(BaseSource):
    Options = HttpOptions
    options: HttpOptions

    def __init__(self, name: str, options: HttpOptions) -> None:  # type: ignore[override]
        super().__init__(name, options)
        for feed in (*options.feeds, *options.paths):
            contract(feed)
        retry = Retry(
            total=options.retries,
            connect=options.retries,
            read=options.retries,
            status=options.retries,
            backoff_factor=options.backoff_s,
            status_forcelist=(500, 502, 503, 504),
            allowed_methods=("GET",),
            raise_on_status=False,
        )
        self.session = requests.Session()
        self.session.mount("http://", HTTPAdapter(max_retries=retry))
        self.session.mount("https://", HTTPAdapter(max_retries=retry))
        if options.token_env:
            token = os.environ.get(options.token_env)
            if not token:
                raise ValueError(f"source {name!r}: environment variable {options.token_env} is not set")
            self.session.headers["Authorization"] = f"Bearer {token}"

    def feeds(self) -> Collection[str]:
        return self.options.feeds

    def check(self) -> None:
        try:
            self.session.get(self.options.base_url, timeout=self.options.timeout_s)
        except requests.RequestException as exc:
            raise SourceError(f"{self.name}: {self.options.base_url} unreachable: {_short(exc)}") from exc

    def latest(self, feed: str) -> datetime | None:
        if not contract(feed).time:
            return None
        return self.read(feed).produced_at

    def _fetch(self, feed: str, start: datetime | None, end: datetime | None) -> pd.DataFrame:
        url = f"{self.options.base_url.rstrip('/')}/{self.options.paths.get(feed, feed).lstrip('/')}"
        params = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
        params = params if contract(feed).time else {}
        try:
            resp = self.session.get(url, params=params, timeout=self.options.timeout_s)
        except requests.RequestException as exc:
            tries = f"{self.options.retries + 1} {'try' if self.options.retries == 0 else 'tries'}"
            why = _why(exc, self.options.timeout_s)
            raise SourceError(f"{self.name}: GET {url} failed ({tries}): {why}") from exc
        if resp.status_code != 200:
            raise SourceError(f"{self.name}: GET {url} answered {resp.status_code} {resp.reason}")
        try:
            data = resp.json()
        except ValueError:
            raise SourceError(f"{self.name}: GET {url} did not answer JSON: {resp.text[:80]!r}") from None
        rows = _rows(data, url, self.name)
        # No rows is an empty feed (no events today), not a delivery without its columns.
        return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(contract(feed).names))


def _rows(data: Any, url: str, name: str) -> list[Mapping[str, Any]]:
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise SourceError(f"{name}: GET {url}: expected a JSON array of objects (or {{'rows': [...]}})")
    return rows


def _why(exc: requests.RequestException, timeout_s: float) -> str:
    """What went wrong in words an operator reads on /healthz: urllib3 buries the cause of the last try (a
    timeout, a refused connection) deep inside "Max retries exceeded with url: <the whole query>"."""
    root = _root(exc)
    if isinstance(root, NewConnectionError):  # (a subclass of ConnectTimeoutError, for history's sake)
        return f"ConnectionError: cannot connect: {str(root).rsplit(': ', 1)[-1]}"[:160]
    if isinstance(root, (TimeoutError, ReadTimeoutError, ConnectTimeoutError)) or isinstance(exc, requests.Timeout):
        return f"ReadTimeout: no answer within {timeout_s:g} s"
    return _short(exc)


def _root(exc: BaseException) -> BaseException:
    """The innermost of a chain of wrapped errors (``reason`` in urllib3, the first argument in requests)."""
    while True:
        inner = getattr(exc, "reason", None)
        if not isinstance(inner, BaseException):
            inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        if inner is None:
            return exc
        exc = inner


def _short(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]
