"""Run records: what ran, when, with what, and how it ended (SQLite in the state dir)."""
