"""The run database: SQLite in WAL mode that several processes (timers, a server, the shell) write
at once. A run is written twice: a `running` row when it starts, everything else when it ends."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmorch import paths
from llmorch.runs.liveness import Writer, is_gone
from llmorch.runs.migrations import migrate

BUSY_TIMEOUT_S = 5.0
"""How long a writer waits for another's transaction; runs commit in milliseconds."""

Row = tuple[object, ...]

STEP_COLUMNS = (
    "span_id", "name", "parent_span_id", "status", "attempts", "duration_ms", "error",
)  # fmt: skip
MODEL_CALL_COLUMNS = (
    "span_id", "model", "provider", "messages", "answer", "tool_calls", "prompt_tokens",
    "completion_tokens", "latency_ms", "first_token_ms", "finish_reason", "error",
)  # fmt: skip
TOOL_CALL_COLUMNS = (
    "span_id", "call_id", "name", "arguments", "ok", "duration_ms", "iteration", "error",
    "truncated", "result_excerpt",
)  # fmt: skip
RETRIEVAL_COLUMNS = ("span_id", "query", "filters", "hits", "duration_ms")
NOTIFICATION_COLUMNS = ("target", "kind", "ok", "attempts", "error")
_TREE = {
    "steps": STEP_COLUMNS,
    "model_calls": MODEL_CALL_COLUMNS,
    "tool_calls": TOOL_CALL_COLUMNS,
    "retrievals": RETRIEVAL_COLUMNS,
    "notifications": NOTIFICATION_COLUMNS,
}
_JSON_COLUMNS = {"input", "output", "messages", "tool_calls", "arguments", "filters", "hits"}
_SUMMARY = (
    "id, workflow, trigger, status, started_at, ended_at, error_kind, error_message, exit_code, "
    "prompt_tokens, completion_tokens, substr(input, 1, 200) AS input, parent_id"
)


def default_path() -> Path:
    return paths.state_dir() / "runs.db"


@dataclass(frozen=True, slots=True)
class RunStart:
    id: str
    workflow: str
    trigger: str
    started_at: float
    input: str | None
    trace_id: str | None
    writer: Writer
    parent_id: str | None = None
    definition_hash: str | None = None


@dataclass(frozen=True, slots=True)
class RunEnd:
    """How a run ended and its tree, as rows in the column order above (JSON already encoded)."""

    status: str
    ended_at: float
    output: str | None = None
    error_kind: str | None = None
    error_message: str | None = None
    exit_code: int | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    steps: Sequence[Row] = ()
    model_calls: Sequence[Row] = ()
    tool_calls: Sequence[Row] = ()
    retrievals: Sequence[Row] = ()


@dataclass(frozen=True, slots=True)
class RunFilter:
    workflow: str | None = None
    status: str | None = None
    since: float | None = None
    text: str | None = None
    limit: int = 20


@dataclass(frozen=True, slots=True)
class Retention:
    max_age_days: float = 0
    max_runs: int = 0


@dataclass
class RunStore:
    """One database file; every method may raise sqlite3.Error or OSError, which callers decide
    about (the recorder warns and goes on, `llmorch runs` reports them)."""

    path: Path = field(default_factory=default_path)
    _db: sqlite3.Connection | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def connect(self) -> sqlite3.Connection:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            try:
                _use_wal(db)
                # WAL with NORMAL keeps every commit atomic; only the last ones may be lost on power
                # loss, and the run they belong to then reads as interrupted.
                db.execute("PRAGMA synchronous=NORMAL")
                db.execute("PRAGMA foreign_keys=ON")
                migrate(db)
            except BaseException:
                db.close()
                raise
            self._db = db
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    @contextmanager
    def _write(self) -> Generator[sqlite3.Connection]:
        """One IMMEDIATE transaction: writers queue on the lock instead of failing mid-way."""
        with self._lock:
            db = self.connect()
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def begin(self, run: RunStart) -> None:
        w = run.writer
        with self._write() as db:
            db.execute(
                "INSERT INTO runs (id, workflow, trigger, status, started_at, input, trace_id, "
                "parent_id, definition_hash, pid, host, boot_id, process_start) "
                "VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id, run.workflow, run.trigger, run.started_at, run.input, run.trace_id,
                    run.parent_id, run.definition_hash, w.pid, w.host, w.boot_id, w.process_start,
                ),
            )  # fmt: skip

    def finish(self, run_id: str, end: RunEnd, retention: Retention | None = None) -> None:
        """Write the outcome and tree in one transaction, then drop what retention no longer keeps."""
        with self._write() as db:
            db.execute(
                "UPDATE runs SET status = ?, ended_at = ?, output = ?, error_kind = ?, "
                "error_message = ?, exit_code = ?, prompt_tokens = ?, completion_tokens = ? "
                "WHERE id = ?",
                (
                    end.status, end.ended_at, end.output, end.error_kind, end.error_message,
                    end.exit_code, end.prompt_tokens, end.completion_tokens, run_id,
                ),
            )  # fmt: skip
            for table, rows in (
                ("steps", end.steps),
                ("model_calls", end.model_calls),
                ("tool_calls", end.tool_calls),
                ("retrievals", end.retrievals),
            ):
                if rows:
                    _insert_tree(db, table, run_id, rows)
            if retention is not None:
                _retain(db, retention, end.ended_at)

    def add_notifications(self, run_id: str, rows: Sequence[Row]) -> None:
        """Append how a finished run's notifications went, after those already recorded."""
        with self._write() as db:
            (start,) = db.execute(
                "SELECT count(*) FROM notifications WHERE run_id = ?", (run_id,)
            ).fetchone()
            _insert_tree(db, "notifications", run_id, rows, start=start)

    def list(self, query: RunFilter) -> list[dict[str, Any]]:
        """Newest first; `text` is full-text search over inputs and outputs."""
        self.mark_interrupted()
        where: list[str] = []
        args: list[object] = []
        if query.workflow:
            where.append("workflow = ?")
            args.append(query.workflow)
        if query.status:
            where.append("status = ?")
            args.append(query.status)
        if query.since is not None:
            where.append("started_at >= ?")
            args.append(query.since)
        if query.text:
            where.append("rowid IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)")
            args.append(fts_phrase(query.text))
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        sql = f"SELECT {_SUMMARY} FROM runs {clause} ORDER BY id DESC LIMIT ?"
        return [_summary(row) for row in self._read(sql, (*args, query.limit))]

    def get(self, run_id: str) -> dict[str, Any] | None:
        """The whole record: the run's columns plus its steps, model, tool calls, retrievals and
        notifications."""
        self.mark_interrupted()
        rows = self._read("SELECT * FROM runs WHERE id = ?", (run_id,))
        if not rows:
            return None
        record = _decoded(rows[0])
        for table, columns in _TREE.items():
            sql = f"SELECT {', '.join(columns)} FROM {table} WHERE run_id = ? ORDER BY seq"
            record[table] = [_decoded(row) for row in self._read(sql, (run_id,))]
        return record

    def resolve(self, prefix: str) -> list[str]:
        """Ids starting with `prefix` (case-insensitive), so users may type the first few characters."""
        rows = self._read(
            "SELECT id FROM runs WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
            (prefix.upper(), prefix.upper() + "\U0010ffff"),
        )
        return [str(row["id"]) for row in rows]

    def prune(self, older_than_s: float) -> int:
        with self._write() as db:
            return db.execute(
                "DELETE FROM runs WHERE started_at < ?", (time.time() - older_than_s,)
            ).rowcount

    def mark_interrupted(self) -> int:
        """Runs still `running` whose writer died become `interrupted` (checked when read)."""
        running = self._read(
            "SELECT id, pid, host, boot_id, process_start FROM runs WHERE status = 'running'", ()
        )
        dead = [
            (row["id"],)
            for row in running
            if is_gone(
                Writer(row["pid"], row["host"], row["boot_id"] or "", row["process_start"] or "")
            )
        ]
        if not dead:
            return 0
        with self._write() as db:
            db.executemany(
                "UPDATE runs SET status = 'interrupted', error_kind = 'interrupted', "
                "error_message = 'the process running it stopped before it finished' "
                "WHERE id = ? AND status = 'running'",
                dead,
            )
        return len(dead)

    def _read(self, sql: str, args: Sequence[object]) -> list[sqlite3.Row]:
        with self._lock:
            db = self.connect()
            cursor = db.execute(sql, args)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()


def fts_phrase(text: str) -> str:
    """User words as FTS5 strings (all must match), so quotes, dashes and `AND` are plain text."""
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


def _insert_tree(
    db: sqlite3.Connection, table: str, run_id: str, rows: Sequence[Row], *, start: int = 0
) -> None:
    columns = _TREE[table]
    marks = ", ".join("?" * (len(columns) + 2))
    db.executemany(
        f"INSERT INTO {table} (run_id, seq, {', '.join(columns)}) VALUES ({marks})",
        [(run_id, seq, *row) for seq, row in enumerate(rows, start)],
    )


def _retain(db: sqlite3.Connection, retention: Retention, now: float) -> None:
    """Cheap enough for every write: both deletes walk an index from its oldest end."""
    if retention.max_age_days > 0:
        cutoff = now - retention.max_age_days * 86400
        db.execute("DELETE FROM runs WHERE started_at < ?", (cutoff,))
    if retention.max_runs > 0:
        # rowids grow with every run, so everything max_runs below the newest is older than it.
        db.execute(
            "DELETE FROM runs WHERE rowid <= (SELECT max(rowid) FROM runs) - ?",
            (retention.max_runs,),
        )


def _decoded(row: sqlite3.Row) -> dict[str, Any]:
    record = dict(zip(row.keys(), row, strict=True))
    for key in _JSON_COLUMNS & record.keys():
        if isinstance(record[key], str):
            record[key] = json.loads(record[key])
    for key in ("ok", "truncated"):
        if key in record and record[key] is not None:
            record[key] = bool(record[key])
    return record


def _summary(row: sqlite3.Row) -> dict[str, Any]:
    record = dict(zip(row.keys(), row, strict=True))
    ended = record.pop("ended_at")
    record["duration_ms"] = (
        None if ended is None else round((ended - record["started_at"]) * 1000, 1)
    )
    return record


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch the file to write-ahead logging, which then stays in it. Two processes (or a run and
    a reader) opening a new file at once both try the switch, and SQLite refuses the second with
    "database is locked" at once instead of waiting: wait for it here, as any write would."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
