"""Registry of datasource kinds, and the feed → source routing built from settings."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from difflib import get_close_matches
from typing import Any, TypeVar

from pydantic import ValidationError

from datasources.base import BaseSource, Datasource, FeedFrame, SourceError, Versioned, WritableSource
from datasources.contracts import FEEDS, contract
from datasources.validation import Report

log = logging.getLogger(__name__)

_KINDS: dict[str, type[BaseSource]] = {}
#: Modules holding the built-in kinds; importing one registers it.
_BUILTIN_MODULES = (
    "datasources.kinds.synthetic",
    "datasources.kinds.sql",
    "datasources.kinds.files",
    "datasources.kinds.http",
)

S = TypeVar("S", bound=type[BaseSource])


class UnknownKindError(ValueError):
    pass


def register(kind: str) -> Callable[[S], S]:
    """Class decorator: make a datasource kind available to configuration."""

    def deco(cls: S) -> S:
        if kind in _KINDS and _KINDS[kind] is not cls:
            raise ValueError(f"datasource kind {kind!r} registered twice")
        cls.kind = kind
        _KINDS[kind] = cls
        return cls

    return deco


def _load_builtins() -> None:
    for module in _BUILTIN_MODULES:
        importlib.import_module(module)


def known_kinds() -> tuple[str, ...]:
    _load_builtins()
    return tuple(sorted(_KINDS))


def kind_class(kind: str) -> type[BaseSource]:
    _load_builtins()
    try:
        return _KINDS[kind]
    except KeyError:
        hint = get_close_matches(kind, _KINDS, n=1)
        did = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise UnknownKindError(
            f"unknown datasource kind {kind!r}{did}; known kinds: {', '.join(known_kinds())}"
        ) from None


def create_source(name: str, kind: str, options: Mapping[str, Any], **context: Any) -> BaseSource:
    """Build a source of ``kind`` with options checked by the kind's own model.

    ``context`` carries settings every kind may use (e.g. the default store URL).
    """
    cls = kind_class(kind)
    try:
        opts = cls.make_options(options, context)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '?'}: {e['msg']}" for e in exc.errors())
        raise ValueError(f"source {name!r} ({kind}): {problems}") from None
    return cls(name, opts)


class Sources:
    """The configured sources and which one serves each feed.

    ``store`` is the writable source that holds the product's own data (the
    seeded district, simulator output, ingested feeds).
    """

    def __init__(self, sources: Mapping[str, BaseSource], routes: Mapping[str, str], store: str) -> None:
        missing = {s for s in routes.values() if s not in sources} | ({store} - set(sources))
        if missing:
            raise ValueError(f"feeds routed to undefined sources: {', '.join(sorted(missing))}")
        self._sources = dict(sources)
        self._routes = {feed: routes.get(feed, store) for feed in FEEDS}
        self._store_name = store

    @property
    def store(self) -> WritableSource:
        src = self._sources[self._store_name]
        if not isinstance(src, WritableSource):
            raise SourceError(f"store source {self._store_name!r} ({src.kind}) cannot be written")
        return src

    def __iter__(self) -> Iterator[Datasource]:
        return iter(self._sources.values())

    def route(self, feed: str) -> Datasource:
        contract(feed)
        return self._sources[self._routes[feed]]

    def routes(self) -> Mapping[str, str]:
        return dict(self._routes)

    def versions(self) -> dict[str, str]:
        """A version token per feed whose source can tell (:class:`Versioned`); others are absent.

        A source that cannot answer just has no versions this time (its feeds are
        then re-read each interval); the read itself reports the failure.
        """
        versions: dict[str, str] = {}
        for name, source in self._sources.items():
            if not isinstance(source, Versioned):
                continue
            try:
                known = source.versions()
            except Exception as exc:  # a version probe must never break a page
                # Quietly: the feeds' reads and the health strip report the failure; this runs every second.
                log.debug("source %s: versions unavailable: %s", name, exc)
                continue
            versions.update({feed: v for feed, v in known.items() if self._routes.get(feed) == name})
        return versions

    def read(self, feed: str, *, start: datetime | None = None, end: datetime | None = None) -> FeedFrame:
        """Validated rows of ``feed`` from whichever source serves it.

        Any failure of the source (driver error, unreachable service) comes out
        as :class:`SourceError`, so a caller degrades just this feed's tiles.
        """
        source = self.route(feed)
        try:
            got = source.read(feed, start=start, end=end)
        except SourceError:
            raise
        except Exception as exc:  # a broken source must not take the page down
            raise SourceError(f"{source.name}: {type(exc).__name__}: {exc}") from exc
        if not got.report.ok:
            self._record(got.report, source.name)
        return got

    def _record(self, report: Report, source_name: str) -> None:
        """Keep the report where health views find it; never fail the read for it."""
        try:
            self.store.record_report(report, origin=f"read:{source_name}")  # type: ignore[attr-defined]
        except Exception:
            log.warning("could not record contract report: %s", report.summary(), exc_info=True)
