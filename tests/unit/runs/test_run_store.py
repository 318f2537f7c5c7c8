"""The run database on real SQLite files: schema upgrades, several writers, dead writers, retention."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from llmorch.runs.ids import new_run_id
from llmorch.runs.liveness import Writer, this_writer
from llmorch.runs.migrations import MIGRATIONS
from llmorch.runs.store import Retention, RunEnd, RunFilter, RunStart, RunStore


def _start(run_id: str, text: str = "hello", *, started_at: float | None = None) -> RunStart:
    at = time.time() if started_at is None else started_at
    return RunStart(run_id, "ask", "cli", at, f'{{"query": "{text}"}}', None, this_writer())


def _write(store: RunStore, text: str = "hello", *, started_at: float | None = None) -> str:
    run_id = new_run_id()
    store.begin(_start(run_id, text, started_at=started_at))
    store.finish(run_id, RunEnd("ok", time.time(), output='{"answer": "fine"}'))
    return run_id


# The schema as the first release wrote it (migrations m001-m003), kept verbatim so the upgrade
# path from a real old file stays tested after the migrations move on.
_RELEASE_1_SCHEMA = """
CREATE TABLE _migrations (name TEXT PRIMARY KEY, applied_at REAL);
INSERT INTO _migrations VALUES ('m001_runs', 0), ('m002_run_tree', 0), ('m003_search', 0);
CREATE TABLE runs (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, trigger TEXT NOT NULL,
    status TEXT NOT NULL, started_at REAL NOT NULL, ended_at REAL, input TEXT, output TEXT,
    error_kind TEXT, error_message TEXT, exit_code INTEGER, trace_id TEXT, pid INTEGER, host TEXT);
CREATE INDEX runs_started ON runs (started_at);
CREATE INDEX runs_workflow ON runs (workflow, id);
CREATE INDEX runs_status ON runs (status, id);
CREATE TABLE steps (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, name TEXT, span_id TEXT, parent_span_id TEXT, status TEXT,
    attempts INTEGER, duration_ms REAL, error TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE model_calls (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, span_id TEXT, model TEXT, provider TEXT, messages TEXT, answer TEXT,
    tool_calls TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, latency_ms REAL,
    first_token_ms REAL, finish_reason TEXT, error TEXT, PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE tool_calls (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, span_id TEXT, call_id TEXT, name TEXT, arguments TEXT, ok INTEGER,
    duration_ms REAL, iteration INTEGER, error TEXT, truncated INTEGER, result_excerpt TEXT,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE TABLE retrievals (run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, span_id TEXT, query TEXT, filters TEXT, hits TEXT, duration_ms REAL,
    PRIMARY KEY (run_id, seq)) WITHOUT ROWID;
CREATE VIRTUAL TABLE runs_fts USING fts5(input, output, content='runs', content_rowid='rowid');
CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
    INSERT INTO runs_fts (rowid, input, output) VALUES (new.rowid, new.input, new.output); END;
CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
    INSERT INTO runs_fts (runs_fts, rowid, input, output)
    VALUES ('delete', old.rowid, old.input, old.output); END;
CREATE TRIGGER runs_fts_update AFTER UPDATE OF input, output ON runs BEGIN
    INSERT INTO runs_fts (runs_fts, rowid, input, output)
    VALUES ('delete', old.rowid, old.input, old.output);
    INSERT INTO runs_fts (rowid, input, output) VALUES (new.rowid, new.input, new.output); END;
INSERT INTO runs (id, workflow, trigger, status, started_at, ended_at, input, output, exit_code)
VALUES ('01HF7YAT000000000000000000', 'ask', 'timer', 'ok', 1700000000, 1700000002,
        '{"query": "when do snapshots prune"}', '{"answer": "sundays"}', 0);
"""


def test_a_release_1_database_is_upgraded_in_place_and_keeps_its_runs(db: Path) -> None:
    with sqlite3.connect(db) as old:
        old.executescript(_RELEASE_1_SCHEMA)
    store = RunStore(db)
    [found] = store.list(RunFilter(text="snapshots"))
    assert found["id"] == "01HF7YAT000000000000000000"
    assert found["prompt_tokens"] is None  # a column the upgrade added
    applied = [row[0] for row in store.connect().execute("SELECT name FROM _migrations")]
    assert applied == [name for name, _ in MIGRATIONS]
    new_id = _write(store, "after the upgrade")
    assert [r["id"] for r in store.list(RunFilter())] == [new_id, "01HF7YAT000000000000000000"]


def test_migrations_run_once_however_often_the_file_is_opened(db: Path) -> None:
    for _ in range(3):
        RunStore(db).connect().close()
    with sqlite3.connect(db) as check:
        (count,) = check.execute("SELECT count(*) FROM _migrations").fetchone()
    assert count == len(MIGRATIONS)


_WRITER = """
import sys, time
from llmorch.runs.ids import new_run_id
from llmorch.runs.liveness import this_writer
from llmorch.runs.store import RunEnd, RunStart, RunStore
store = RunStore(__import__("pathlib").Path(sys.argv[1]))
for n in range(int(sys.argv[2])):
    run_id = new_run_id()
    store.begin(RunStart(run_id, "w" + sys.argv[3], "timer", time.time(), '"x"', None, this_writer()))
    store.finish(run_id, RunEnd("ok", time.time(), output='"done"', steps=[("s", "step", None,
        "ok", 1, 0.1, None)] * 5))
"""


def test_several_processes_writing_at_once_lose_no_run(db: Path) -> None:
    writers, runs_each = 6, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(db), str(runs_each), str(n)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(writers)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    assert not any("locked" in e for e in errors)
    store = RunStore(db)
    runs = store.list(RunFilter(limit=10_000))
    assert len(runs) == writers * runs_each
    assert {r["status"] for r in runs} == {"ok"}
    (steps,) = store.connect().execute("SELECT count(*) FROM steps").fetchone()
    assert steps == writers * runs_each * 5


def test_a_run_whose_process_died_reads_as_interrupted(db: Path) -> None:
    store = RunStore(db)
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = Writer(child.pid, this_writer().host, this_writer().boot_id, "")
    store.begin(RunStart(new_run_id(), "ask", "cli", time.time(), None, None, dead))
    alive_id = new_run_id()
    store.begin(_start(alive_id))
    assert {r["status"] for r in store.list(RunFilter())} == {"running"}
    child.kill()
    child.wait()
    statuses = {r["id"]: r["status"] for r in store.list(RunFilter())}
    assert statuses[alive_id] == "running"  # this process still runs it
    assert sorted(statuses.values()) == ["interrupted", "running"]


def test_a_run_from_before_a_reboot_is_interrupted_even_if_its_pid_is_reused(db: Path) -> None:
    store = RunStore(db)
    me = this_writer()
    before_reboot = Writer(me.pid, me.host, "an-earlier-boot", me.process_start)
    run_id = new_run_id()
    store.begin(RunStart(run_id, "ask", "timer", time.time(), None, None, before_reboot))
    record = store.get(run_id)
    assert record is not None and record["status"] == "interrupted"


def test_retention_keeps_the_newest_runs_and_drops_old_ones_as_runs_are_written(db: Path) -> None:
    store = RunStore(db)
    ancient = _write(store, started_at=time.time() - 40 * 86400)
    kept = [_write(store) for _ in range(4)]
    run_id = new_run_id()
    store.begin(_start(run_id))
    store.finish(run_id, RunEnd("ok", time.time()), Retention(max_age_days=30, max_runs=3))
    ids = [r["id"] for r in store.list(RunFilter())]
    assert ids == [run_id, *reversed(kept)][:3]
    assert ancient not in ids
    for table in ("steps", "model_calls", "runs_fts"):  # nothing of a dropped run stays behind
        (rows,) = store.connect().execute(f"SELECT count(*) FROM {table}").fetchone()
        assert rows <= 3


def test_prune_deletes_runs_older_than_asked(db: Path) -> None:
    store = RunStore(db)
    _write(store, started_at=time.time() - 10 * 86400)
    recent = _write(store)
    assert store.prune(7 * 86400) == 1
    assert [r["id"] for r in store.list(RunFilter())] == [recent]


def test_search_treats_punctuation_and_operators_as_plain_words(db: Path) -> None:
    store = RunStore(db)
    wanted = _write(store, "restic AND prune-policy")
    _write(store, "tomatoes")
    assert [r["id"] for r in store.list(RunFilter(text="prune-policy AND"))] == [wanted]
    assert store.list(RunFilter(text='"unbalanced')) == []


def test_ids_sort_in_the_order_runs_started_even_within_one_millisecond() -> None:
    ids = [new_run_id(ms) for ms in (1, 2, 1_000, 1_700_000_000_000, 1_700_000_000_001)]
    ids += [new_run_id(1_800_000_000_000) for _ in range(50)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 26 for i in ids)


def test_first_openers_of_a_new_database_at_once_all_get_it(tmp_path: Path) -> None:
    # The first opener switches the file to WAL; SQLite refused a second switcher at once with
    # "database is locked" (about 1 open in 160 here), which turned run records off for good.
    failures: list[BaseException] = []
    for trial in range(300):
        path = tmp_path / f"runs-{trial}.db"
        start = threading.Barrier(4)

        def open_it(path: Path = path, start: threading.Barrier = start) -> None:
            store = RunStore(path)
            start.wait()
            try:
                store.connect()
            except BaseException as exc:
                failures.append(exc)
            finally:
                store.close()

        openers = [threading.Thread(target=open_it) for _ in range(4)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join()
    assert failures == []
