"""Leaves every layer may use: the exception hierarchy, settings (read once, at the edge), SQLite helpers."""
