"""What run records cost: per model call, per run, `runs list` on a big database, bytes per ask.

Times a typical RAG ask's events (5 steps, one model call whose prompt holds 6 passages, one
retrieval with 6 hits) recorded to a real SQLite file in a temp dir, against the same work with
no recorder. Goals: < 1 ms per model call and < 2 ms per run at p50; `runs list` on 100,000 runs
< 200 ms.

    .venv/bin/python bench/runs.py [--runs 300] [--big 100000]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from llmorch.config import Settings
from llmorch.llm.call_report import ModelCallReport
from llmorch.llm.messages import AssistantMessage, Completion, SystemMessage, Usage, UserMessage
from llmorch.runs.ids import new_run_id
from llmorch.runs.observer import RetrievalRecord, RetrievedHit, StepRecord, current_observer
from llmorch.runs.recorder import RunRecorder
from llmorch.runs.store import RunFilter, RunStore

PASSAGE = "Restic snapshots run nightly at 02:30 to the NAS; keep 7 daily and 4 weekly. " * 13
MESSAGES = [
    SystemMessage(content="Answer from the numbered passages and cite them as [n]."),
    UserMessage(
        content="\n\n".join(f"[{n}] Backup strategy.md\n{PASSAGE}" for n in range(1, 7))
        + "\n\nQuestion: when do backups run?"
    ),
]
COMPLETION = Completion(
    message=AssistantMessage(content="Backups run nightly at 02:30 [1]. " * 12),
    finish_reason="stop",
    usage=Usage(prompt_tokens=1800, completion_tokens=120, total_tokens=1920),
    model="bench-model",
)
ANSWER = {"query": "when do backups run?", "answer": COMPLETION.message.content, "sources": [
    {"path": "Backup strategy.md", "heading": "Schedule", "snippet": PASSAGE[:200]}
] * 6}  # fmt: skip


def _model_call() -> None:
    with ModelCallReport("openai", "bench-model", MESSAGES) as call:
        call.done(COMPLETION)


def _typical_ask_events() -> None:
    """What a RAG ask reports: its steps, one model call, one search with six hits."""
    observer = current_observer()
    _model_call()
    if observer is None:
        return
    hits = [RetrievedHit("Backup strategy.md", "Schedule", n, 3.2 - n / 10) for n in range(6)]
    observer.retrieval(RetrievalRecord("when do backups run?", {"collection": "notes"}, hits))
    for name in ("prepare", "retrieve", "answer", "cite", "ask-rag"):
        observer.step_finished(StepRecord(name, "a" * 16, "b" * 16, "ok", 1, 1.5))


def _p50_us(fn: Callable[[], None], rounds: int) -> float:
    samples: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1e6)
    return statistics.median(samples)


def per_model_call(settings: Settings, db: Path, rounds: int) -> None:
    bare = _p50_us(_model_call, rounds)
    with RunRecorder(settings, workflow="bench", input=None, path=db):
        recorded = _p50_us(_model_call, rounds)

    # The call's share of the write at the end: a run with 11 calls against one with 1.
    def run_with(calls: int) -> Callable[[], None]:
        def run() -> None:
            with RunRecorder(settings, workflow="bench", input=None, path=db):
                for _ in range(calls):
                    _model_call()

        return run

    write_share = (_p50_us(run_with(11), 100) - _p50_us(run_with(1), 100)) / 10
    extra = recorded - bare + write_share
    print(f"model call, no recorder        p50 {bare:8.1f} µs")
    print(
        f"model call, recorded           p50 {recorded:8.1f} µs  (+ {write_share:.1f} µs at write)"
    )
    print(f"  recording adds per call      p50 {extra / 1000:8.3f} ms   goal < 1 ms")


def per_run(settings: Settings, db: Path, rounds: int) -> None:
    def recorded() -> None:
        with RunRecorder(settings, workflow="ask", input={"query": "when?"}, path=db) as rec:
            _typical_ask_events()
            rec.output = ANSWER

    bare = _p50_us(_typical_ask_events, rounds)
    with_record = _p50_us(recorded, rounds)
    print(f"typical ask, no recorder       p50 {bare:8.1f} µs")
    print(f"typical ask, recorded          p50 {with_record:8.1f} µs")
    print(f"  recording adds per run       p50 {(with_record - bare) / 1000:8.3f} ms   goal < 2 ms")


def _bytes_per_ask(settings: Settings, db: Path, asks: int) -> float:
    RunStore(db).connect().close()
    empty = db.stat().st_size
    for _ in range(asks):
        with RunRecorder(settings, workflow="ask", input={"query": "when?"}, path=db) as rec:
            _typical_ask_events()
            rec.output = ANSWER
    store = RunStore(db)
    store.connect().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return (db.stat().st_size - empty) / asks


def bytes_per_ask(settings: Settings, folder: Path, asks: int = 200) -> None:
    full = _bytes_per_ask(settings, folder / "size.db", asks)
    print(f"database size per typical ask      {full / 1024:8.1f} KiB  (6 passages of "
          f"{len(PASSAGE)} chars in the prompt)")  # fmt: skip
    off = Settings.model_validate({"runs": {"store_content": False}})
    meta_only = _bytes_per_ask(off, folder / "size-meta.db", asks)
    print(f"  with store_content: false        {meta_only / 1024:8.1f} KiB")


def big_database(folder: Path, runs: int) -> Path:
    """`runs` finished runs written in bulk (the list query cares about rows, not how they came)."""
    db = folder / "big.db"
    store = RunStore(db)
    conn = store.connect()
    now = time.time()
    rows = [
        (
            new_run_id(int((now - runs + n) * 1000)), "ask" if n % 3 else "digest",
            "timer" if n % 2 else "cli", "failed" if n % 50 == 0 else "ok", now - runs + n,
            now - runs + n + 1.5, f'{{"query": "question {n} about restic snapshots"}}',
            f'{{"answer": "answer {n}"}}', 0, 1800, 120,
        )
        for n in range(runs)
    ]  # fmt: skip
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO runs (id, workflow, trigger, status, started_at, ended_at, input, output, "
        "exit_code, prompt_tokens, completion_tokens) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    conn.execute("COMMIT")
    store.close()
    return db


def list_timings(db: Path) -> None:
    cases = {
        "runs list": RunFilter(),
        "runs list --status failed": RunFilter(status="failed"),
        "runs list -w digest --since 2d": RunFilter(workflow="digest", since=time.time() - 172800),
        "runs list -q 'question 99999'": RunFilter(text="question 99999"),
    }
    for label, query in cases.items():
        samples: list[float] = []
        for _ in range(15):
            started = time.perf_counter()
            store = RunStore(db)  # a fresh open each time, as each command does
            store.list(query)
            store.close()
            samples.append((time.perf_counter() - started) * 1000)
        print(f"{label:34} p50 {statistics.median(samples):8.1f} ms   goal < 200 ms")


def cli_wall_time(db: Path, state: Path) -> None:
    """The whole command, next to `llmorch --version`: the difference is what `runs list` adds."""
    env_state = state / "llmorch"
    env_state.mkdir(parents=True, exist_ok=True)
    (env_state / "runs.db").symlink_to(db)
    command = str(Path(sys.executable).parent / "llmorch")
    env = {"XDG_STATE_HOME": str(state), "PATH": "/usr/bin:/bin"}

    def p50_ms(*args: str) -> float:
        samples: list[float] = []
        for _ in range(7):
            started = time.perf_counter()
            subprocess.run([command, *args], env=env, capture_output=True, check=True)
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    listing, version = p50_ms("runs", "list"), p50_ms("--version")
    print(f"`llmorch runs list` whole process  p50 {listing:8.1f} ms  "
          f"(`llmorch --version`: {version:.1f} ms)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300, help="rounds per timing")
    parser.add_argument("--big", type=int, default=100_000, help="runs in the big database")
    args = parser.parse_args()
    settings = Settings.model_validate({"llm": {"api_key": "sk-bench-000000000000"}})
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db = folder / "runs.db"
        per_model_call(settings, db, args.runs)
        per_run(settings, db, args.runs)
        bytes_per_ask(settings, folder)
        big = big_database(folder, args.big)
        print(f"database of {args.big:,} runs: {big.stat().st_size / 2**20:.1f} MiB")
        list_timings(big)
        cli_wall_time(big, folder / "state")


if __name__ == "__main__":
    main()
