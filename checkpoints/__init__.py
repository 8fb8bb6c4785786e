"""Persistence: the SQLite checkpointer, thread listing, and the content-addressed page store."""
