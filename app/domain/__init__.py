"""Pure domain rules: standard library and pure libraries only (no Flask, no SQLAlchemy)."""
