"""The local corpus: documents and passages in SQLite with FTS5, collections, and their names."""
