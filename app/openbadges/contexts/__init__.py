"""Data files: JSON-LD contexts shipped with the library (see README.md here)."""
