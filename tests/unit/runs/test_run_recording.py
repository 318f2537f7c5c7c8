"""What the recorder keeps of a run: its tree, its outcome, never a secret, and never a failure of
its own that stops the run."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from loguru import logger

from llmorch.config import Settings
from llmorch.errors import LlmError
from llmorch.pipeline import Pipeline, step
from llmorch.runs.observer import (
    ModelCallRecord,
    RetrievalRecord,
    RetrievedHit,
    ToolCallRecord,
    current_observer,
)
from llmorch.runs.recorder import RunRecorder
from llmorch.runs.store import RunFilter, RunStore

SECRET = "sk-live-0123456789abcdef"


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    seen: list[str] = []
    sink = logger.add(lambda m: seen.append(str(m)), level="WARNING", format="{message}")
    yield seen
    logger.remove(sink)


def _report_a_little_of_everything(prompt: str, argument: str) -> None:
    observer = current_observer()
    assert observer is not None
    messages = [{"role": "user", "content": prompt}]
    observer.model_call(ModelCallRecord("m", "openai", messages, "an answer", prompt_tokens=5))
    observer.tool_call(ToolCallRecord("c1", "fetch", {"url": argument}, True, 0.25))
    observer.retrieval(
        RetrievalRecord("restic", {"tags": ["x"]}, [RetrievedHit("a.md", "Setup", 2, 0.5)])
    )


def _database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_an_api_key_in_a_prompt_or_tool_argument_never_reaches_the_database(
    settings: Settings, db: Path
) -> None:
    unconfigured = "sk-proj-ZZZZZZZZZZZZZZZZZZZZ"
    with RunRecorder(settings, workflow="ask", input={"query": f"use {SECRET}"}, path=db) as rec:
        _report_a_little_of_everything(f"my key is {SECRET}", f"https://x/?api_key={SECRET}")
        current_observer().tool_call(  # type: ignore[union-attr]
            ToolCallRecord("c2", "login", {"password": "hunter22", "token": unconfigured}, True, 0)
        )
        rec.output = {"answer": f"you said {SECRET} and {unconfigured}"}
    RunStore(db).close()
    raw = _database_bytes(db)
    for secret in (SECRET, unconfigured, "hunter22"):
        assert secret.encode() not in raw
    record = RunStore(db).get(rec.run_id or "")
    assert record is not None
    assert record["model_calls"][0]["messages"][0]["content"] == "my key is [REDACTED]"
    assert record["tool_calls"][1]["arguments"] == {"password": "[REDACTED]", "token": "[REDACTED]"}


def test_store_content_false_keeps_the_shape_and_timings_but_no_text(db: Path) -> None:
    settings = Settings.model_validate({"runs": {"store_content": False}})
    with RunRecorder(settings, workflow="ask", input={"query": "private"}, path=db) as rec:
        _report_a_little_of_everything("private prompt", "private-arg")
        rec.output = {"answer": "private answer"}
    assert b"private" not in _database_bytes(db)
    record = RunStore(db).get(rec.run_id or "")
    assert record is not None
    assert record["input"] is None and record["output"] is None
    [call] = record["model_calls"]
    assert (call["model"], call["prompt_tokens"], call["messages"]) == ("m", 5, None)
    [tool] = record["tool_calls"]
    assert (tool["name"], tool["duration_ms"], tool["arguments"]) == ("fetch", 250.0, None)
    [search] = record["retrievals"]
    assert search["query"] is None
    assert search["hits"] == [{"path": "a.md", "heading": None, "chunk": 2, "score": 0.5}]


def test_long_payloads_are_cut_with_a_marker_and_stay_readable(db: Path) -> None:
    settings = Settings.model_validate({"runs": {"max_payload_chars": 300}})
    with RunRecorder(settings, workflow="ask", input={"query": "q" * 1000}, path=db) as rec:
        rec.output = {"answer": "short"}
    record = RunStore(db).get(rec.run_id or "")
    assert record is not None
    assert record["input"]["query"] == "q" * 300 + "…[cut 700 chars]"
    assert record["output"] == {"answer": "short"}


def test_a_failed_run_keeps_the_error_kind_message_and_exit_code(
    settings: Settings, db: Path
) -> None:
    recorder = RunRecorder(settings, workflow="ask", input={"query": "x"}, path=db)
    with pytest.raises(LlmError), recorder:
        raise LlmError(f"the server said no to {SECRET}")
    [run] = RunStore(db).list(RunFilter())
    assert (run["status"], run["error_kind"], run["exit_code"]) == ("failed", "llm", 5)
    assert run["error_message"] == "the server said no to [REDACTED]"


def test_a_cancelled_run_is_recorded_as_cancelled(settings: Settings, db: Path) -> None:
    async def cancelled() -> None:
        async with RunRecorder(settings, workflow="ask", input=None, path=db):
            raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())
    [run] = RunStore(db).list(RunFilter())
    assert (run["status"], run["exit_code"]) == ("cancelled", 130)


def test_pipeline_steps_are_recorded_under_the_step_they_ran_in(
    settings: Settings, db: Path
) -> None:
    @step(name="inner")
    async def inner(n: int, ctx: object) -> int:
        return n + 1

    inner_pipeline = Pipeline.create(inner, context=object, name="inner-pipeline")

    @step(name="outer")
    async def outer(n: int, ctx: object) -> int:
        return (await inner_pipeline.execute(n, ctx)).unwrap()

    @step(name="fails")
    async def fails(n: int, ctx: object) -> int:
        raise LlmError("nope")

    async def run() -> None:
        async with RunRecorder(settings, workflow="demo", input=1, path=db):
            pipeline = Pipeline.create(outer, context=object, name="demo").pipe(fails)
            await pipeline.execute(1, object())

    asyncio.run(run())
    [run_row] = RunStore(db).list(RunFilter())
    record = RunStore(db).get(run_row["id"])
    assert record is not None
    steps = {s["name"]: s for s in record["steps"]}
    assert steps["inner"]["parent_span_id"] == steps["inner-pipeline"]["span_id"]
    assert steps["inner-pipeline"]["parent_span_id"] == steps["outer"]["span_id"]
    assert steps["outer"]["parent_span_id"] == steps["demo"]["span_id"]
    assert steps["demo"]["status"] == "failed"
    assert steps["fails"]["status"] == "failed"
    assert steps["fails"]["error"] == "[llm] nope"


@contextmanager
def _read_only(*paths: Path) -> Iterator[None]:
    """Make files unwritable even for root (who ignores modes): the immutable attribute."""
    if os.geteuid() != 0:
        for p in paths:
            p.chmod(0o555 if p.is_dir() else 0o444)
        yield
        for p in paths:
            p.chmod(0o755 if p.is_dir() else 0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root, and no chattr to make a file read-only")
    subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], check=True)


def test_a_read_only_database_warns_once_and_every_run_still_completes(
    settings: Settings, db: Path, warnings: list[str]
) -> None:
    RunStore(db).connect().close()
    results: list[str | None] = []
    with _read_only(db, db.parent):
        for n in range(3):
            with RunRecorder(settings, workflow="ask", input=n, path=db) as rec:
                rec.output = n
            results.append(rec.run_id)
    assert results == [None, None, None]
    assert len(warnings) == 1 and "run records are off" in warnings[0]


def test_a_corrupt_database_warns_once_and_every_run_still_completes(
    settings: Settings, db: Path, warnings: list[str]
) -> None:
    db.write_bytes(b"this is not a database at all" * 200)
    outputs = []
    for n in range(3):
        with RunRecorder(settings, workflow="ask", input=n, path=db) as rec:
            rec.output = n
            outputs.append(n)
    assert outputs == [0, 1, 2]
    assert rec.run_id is None
    assert len(warnings) == 1 and str(db) in warnings[0]


def test_disabled_recording_writes_nothing(db: Path) -> None:
    settings = Settings.model_validate({"runs": {"enabled": False}})
    with RunRecorder(settings, workflow="ask", input=1, path=db) as rec:
        assert current_observer() is None
    assert rec.run_id is None
    assert not db.exists()


def test_a_run_started_by_systemd_is_a_timer_run(
    settings: Settings, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INVOCATION_ID", "0123abcd")
    with RunRecorder(settings, workflow="digest", input=None, path=db):
        pass
    assert [r["trigger"] for r in RunStore(db).list(RunFilter())] == ["timer"]


def test_input_and_output_are_searchable(settings: Settings, db: Path) -> None:
    with RunRecorder(settings, workflow="ask", input={"query": "zucchini"}, path=db) as first:
        first.output = {"answer": "plant in may"}
    with RunRecorder(settings, workflow="ask", input={"query": "other"}, path=db) as second:
        second.output = {"answer": "nothing"}
    store = RunStore(db)
    assert [r["id"] for r in store.list(RunFilter(text="zucchini"))] == [first.run_id]
    assert [r["id"] for r in store.list(RunFilter(text="may"))] == [first.run_id]
    assert json.loads(store.list(RunFilter(text="nothing"))[0]["input"]) == {"query": "other"}


def test_an_async_run_waits_for_a_busy_database_without_holding_the_event_loop(
    settings: Settings, db: Path
) -> None:
    """Another process's transaction makes a write wait (up to the busy timeout); a server's
    other requests must go on meanwhile."""
    import sqlite3

    RunStore(db).connect().close()  # the schema exists
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the other writer holds the lock

    async def scenario() -> tuple[int, str | None]:
        ticks = 0
        turned = asyncio.Event()

        async def other_work() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1
                if ticks == 10:
                    turned.set()

        async def recorded() -> str | None:
            async with RunRecorder(settings, workflow="ask", input=None, path=db) as recorder:
                pass
            return recorder.run_id

        ticker = asyncio.create_task(other_work())
        run = asyncio.create_task(recorded())
        await turned.wait()  # the loop keeps turning while the recorder waits for the lock
        assert not run.done()
        other.execute("COMMIT")
        run_id = await run
        ticker.cancel()
        return ticks, run_id

    ticks, run_id = asyncio.run(scenario())
    other.close()
    assert ticks >= 10
    assert run_id is not None
    record = RunStore(db).get(run_id)
    assert record is not None and record["status"] == "ok"
