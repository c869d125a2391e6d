"""Built-in datasource kinds; each module registers itself on import."""
