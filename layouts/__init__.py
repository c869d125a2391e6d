"""Pure functions from computed values to Dash components; no data access here."""
