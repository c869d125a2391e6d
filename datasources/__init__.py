"""Datasource kinds and their registry (STYLE.md §5).

A kind registers itself with ``@register("sql")``; configuration picks kinds by
name. Layouts and callbacks never import a concrete kind: they receive a
:class:`~datasources.registry.Sources` built from settings.
"""

from datasources.base import BaseSource, Datasource, FeedFrame, SourceError, Versioned, WritableSource
from datasources.registry import Sources, create_source, known_kinds, register

__all__ = [
    "BaseSource",
    "Datasource",
    "FeedFrame",
    "SourceError",
    "Sources",
    "Versioned",
    "WritableSource",
    "create_source",
    "known_kinds",
    "register",
]
