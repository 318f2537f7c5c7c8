"""The run database's schema, as migrations that only append (as simonw/llm keeps its logs):
each runs once, in order, and its name is written to `_migrations` in the same transaction."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register `fn` as the next migration; never reorder, rename or edit one that has shipped."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def migrate(db: sqlite3.Connection) -> None:
    """Apply the migrations this file has not seen yet; concurrent openers serialise on the lock."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
    applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
    if all(name in applied for name, _ in MIGRATIONS):
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        applied = {row[0] for row in db.execute("SELECT name FROM _migrations")}
        for name, fn in MIGRATIONS:
            if name not in applied:
                fn(db)
                db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


@migration
def m001_runs(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            workflow TEXT NOT NULL,
            trigger TEXT NOT NULL,
            status TEXT NOT NULL,
            started_at REAL NOT NULL,
            ended_at REAL,
            input TEXT,
            output TEXT,
            error_kind TEXT,
            error_message TEXT,
            exit_code INTEGER,
            trace_id TEXT,
            pid INTEGER,
            host TEXT
        )"""
    )
    db.execute("CREATE INDEX runs_started ON runs (started_at)")
    db.execute("CREATE INDEX runs_workflow ON runs (workflow, id)")
    db.execute("CREATE INDEX runs_status ON runs (status, id)")


@migration
def m002_run_tree(db: sqlite3.Connection) -> None:
    """Steps, model calls, tool calls and retrievals, each tied to the span it happened in."""
    cascade = "run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, seq INTEGER NOT NULL"
    db.execute(
        f"""CREATE TABLE steps ({cascade}, name TEXT, span_id TEXT, parent_span_id TEXT,
            status TEXT, attempts INTEGER, duration_ms REAL, error TEXT,
            PRIMARY KEY (run_id, seq)) WITHOUT ROWID"""
    )
    db.execute(
        f"""CREATE TABLE model_calls ({cascade}, span_id TEXT, model TEXT, provider TEXT,
            messages TEXT, answer TEXT, tool_calls TEXT, prompt_tokens INTEGER,
            completion_tokens INTEGER, latency_ms REAL, first_token_ms REAL,
            finish_reason TEXT, error TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID"""
    )
    db.execute(
        f"""CREATE TABLE tool_calls ({cascade}, span_id TEXT, call_id TEXT, name TEXT,
            arguments TEXT, ok INTEGER, duration_ms REAL, iteration INTEGER, error TEXT,
            truncated INTEGER, result_excerpt TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID"""
    )
    db.execute(
        f"""CREATE TABLE retrievals ({cascade}, span_id TEXT, query TEXT, filters TEXT,
            hits TEXT, duration_ms REAL, PRIMARY KEY (run_id, seq)) WITHOUT ROWID"""
    )


@migration
def m003_search(db: sqlite3.Connection) -> None:
    """Full-text search over inputs and outputs, kept in step with `runs` by triggers."""
    db.execute(
        "CREATE VIRTUAL TABLE runs_fts USING fts5(input, output, content='runs', content_rowid='rowid')"
    )
    db.execute(
        """CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
            INSERT INTO runs_fts (rowid, input, output) VALUES (new.rowid, new.input, new.output);
        END"""
    )
    db.execute(
        """CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
            INSERT INTO runs_fts (runs_fts, rowid, input, output)
            VALUES ('delete', old.rowid, old.input, old.output);
        END"""
    )
    db.execute(
        """CREATE TRIGGER runs_fts_update AFTER UPDATE OF input, output ON runs BEGIN
            INSERT INTO runs_fts (runs_fts, rowid, input, output)
            VALUES ('delete', old.rowid, old.input, old.output);
            INSERT INTO runs_fts (rowid, input, output) VALUES (new.rowid, new.input, new.output);
        END"""
    )
    db.execute("INSERT INTO runs_fts (runs_fts) VALUES ('rebuild')")


@migration
def m004_lineage_and_liveness(db: sqlite3.Connection) -> None:
    """What a rerun repeats, which definition ran, and enough to tell a dead writer from a live one."""
    for column in (
        "parent_id TEXT",
        "definition_hash TEXT",
        "boot_id TEXT",
        "process_start TEXT",
        "prompt_tokens INTEGER",
        "completion_tokens INTEGER",
    ):
        db.execute(f"ALTER TABLE runs ADD COLUMN {column}")


@migration
def m005_notifications(db: sqlite3.Connection) -> None:
    """Where a run's result was sent afterwards (`--notify`), and whether it arrived."""
    db.execute(
        """CREATE TABLE notifications (
            run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, seq INTEGER NOT NULL,
            target TEXT, kind TEXT, ok INTEGER, attempts INTEGER, error TEXT,
            PRIMARY KEY (run_id, seq)) WITHOUT ROWID"""
    )
