"""Build the configured datasources from settings."""

from __future__ import annotations

from dashboard.settings import ConfigError, Settings
from datasources import Sources, create_source


def build_sources(settings: Settings) -> Sources:
    """One source per ``[sources.<name>]`` entry and the feed routing.

    Raises :class:`ConfigError` naming the source when a kind or its options
    are wrong, or when the store's data directory cannot be written.
    """
    context = {"store_url": settings.resolved_store_url}
    built = {}
    for name, conf in settings.sources.items():
        try:
            built[name] = create_source(name, conf.kind, conf.options(), **context)
        except ValueError as exc:
            raise ConfigError(f"sources.{name}: {exc}") from None
    return Sources(built, settings.feeds, settings.store)
