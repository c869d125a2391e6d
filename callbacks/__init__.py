"""Thin callback wiring: one ``register(app, sources, settings)`` per feature."""
