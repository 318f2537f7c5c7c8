"""Records one run: opens it in the database, collects what its parts report, writes how it ended.

Recording never makes a run fail: when the database cannot be written (locked past the busy
timeout, full, read-only, corrupt) the recorder warns once per process and the run goes on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from llmorch.errors import InterruptedRunError, LlmorchError
from llmorch.logging import Redactor, current_span_id, current_trace_id, logger, scrub
from llmorch.runs.ids import new_run_id
from llmorch.runs.liveness import this_writer
from llmorch.runs.observer import (
    ModelCallRecord,
    RetrievalRecord,
    StepRecord,
    ToolCallRecord,
    observing,
)
from llmorch.runs.store import Retention, Row, RunEnd, RunStart, RunStore, default_path

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from llmorch.config import RunsSettings, Settings
    from llmorch.runs.observer import RunObserver

Trigger = Literal["cli", "timer", "http", "webhook", "mcp", "chat"]
CUT_MARKER = "…[cut {} chars]"

# One store per database file per process, so a broken file is reported once, not once per run.
_stores: dict[Path, RunStore] = {}
_broken: set[Path] = set()
_stores_lock = threading.Lock()
# One writer thread for the async runs of this process: a run's end is queued behind its start,
# and SQLite takes one writer at a time anyway.
_writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llmorch-runs")


def default_trigger() -> Trigger:
    """`timer` when systemd started us (it sets INVOCATION_ID for every unit), else `cli`."""
    return "timer" if os.environ.get("INVOCATION_ID") else "cli"


def _store_for(path: Path) -> RunStore:
    with _stores_lock:  # async runs write from worker threads
        if path not in _stores:
            _stores[path] = RunStore(path)
        return _stores[path]


class RunRecorder:
    """A RunObserver for one run, and the context (sync or async) that opens and closes it.

    Set `output` before the block ends; `run_id` is None when recording is off or failed."""

    def __init__(
        self,
        settings: Settings,
        *,
        workflow: str,
        input: Any,
        trigger: Trigger | str | None = None,
        parent_id: str | None = None,
        definition_hash: str | None = None,
        path: Path | None = None,
        run_id: str | None = None,
    ) -> None:
        """`run_id` is for a caller that must name the run before it ends (HTTP `?wait=false`);
        by default a new id is made when the run opens."""
        self._config: RunsSettings = settings.runs
        self._redact = Redactor(settings.secret_values())
        self._path = path or default_path()
        self.workflow = workflow
        self.input = input
        # A command systemd started says `cli` like any other; its record says `timer`.
        self.trigger: str = default_trigger() if trigger in (None, "cli") else trigger
        self.parent_id = parent_id
        self.definition_hash = definition_hash
        self.output: Any = None
        self.run_id: str | None = None
        self._chosen_id = run_id
        self._opened = False
        self._started_at = 0.0
        self._steps: list[StepRecord] = []
        self._model_calls: list[tuple[ModelCallRecord, str | None]] = []
        self._tool_calls: list[tuple[ToolCallRecord, str | None]] = []
        self._retrievals: list[tuple[RetrievalRecord, str | None]] = []
        self._observing: AbstractContextManager[RunObserver] | None = None

    # RunObserver: called from inside the run, so the span that is current is where it happened.
    def step_finished(self, record: StepRecord) -> None:
        self._steps.append(record)

    def model_call(self, record: ModelCallRecord) -> None:
        self._model_calls.append((record, record.span_id or current_span_id()))

    def tool_call(self, record: ToolCallRecord) -> None:
        self._tool_calls.append((record, current_span_id()))

    def retrieval(self, record: RetrievalRecord) -> None:
        self._retrievals.append((record, current_span_id()))

    def __enter__(self) -> RunRecorder:
        start = self._open()
        if start is not None:
            self._begin(start)
        return self

    def __exit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        self._stop_observing()
        self._write_end(exc)

    # Async runs (the server's above all) write on the writer thread, never on the event loop: a
    # write is usually well under a millisecond, but may wait up to the busy timeout for another
    # process's transaction. The start is not waited for; the end, queued behind it, is.
    async def __aenter__(self) -> RunRecorder:
        start = self._open()
        if start is not None:
            _writer.submit(self._begin, start)
        return self

    async def __aexit__(self, _type: object, exc: BaseException | None, _tb: object) -> None:
        self._stop_observing()
        if self._opened:
            # Written even if this task is cancelled meanwhile: the thread goes on regardless.
            await asyncio.get_running_loop().run_in_executor(_writer, self._write_end, exc)

    def _open(self) -> RunStart | None:
        """Start observing (in the caller's context, where the run's parts report) and say what
        to write; None when nothing is recorded."""
        self._started_at = time.time()
        if not self._config.enabled or self._path in _broken:
            return None
        self._observing = observing(self)
        self._observing.__enter__()
        self._opened = True
        return RunStart(
            id=self._chosen_id or new_run_id(int(self._started_at * 1000)),
            workflow=self.workflow,
            trigger=self.trigger,
            started_at=self._started_at,
            input=self._json(self.input),
            trace_id=current_trace_id(),
            writer=this_writer(),
            parent_id=self.parent_id,
            definition_hash=self.definition_hash,
        )

    def _begin(self, start: RunStart) -> None:
        if self._safely(lambda store: store.begin(start)):
            self.run_id = start.id

    def _stop_observing(self) -> None:
        if self._observing is not None:
            self._observing.__exit__(None, None, None)
            self._observing = None

    def _write_end(self, exc: BaseException | None) -> None:
        """The outcome and the tree, if the start was written."""
        run_id = self.run_id
        if run_id is None:
            return
        end = self._end(exc)
        retention = Retention(self._config.max_age_days, self._config.max_runs)
        self._safely(lambda store: store.finish(run_id, end, retention))

    def _safely(self, write: Callable[[RunStore], None]) -> bool:
        return _safely(self._path, write)

    def _end(self, exc: BaseException | None) -> RunEnd:
        calls = [record for record, _ in self._model_calls]
        status, kind, message, code = _outcome(exc)
        return RunEnd(
            status=status,
            ended_at=time.time(),
            output=self._json(self.output) if exc is None else None,
            error_kind=kind,
            error_message=None if message is None else self._redact(message),
            exit_code=code,
            prompt_tokens=_total(c.prompt_tokens for c in calls),
            completion_tokens=_total(c.completion_tokens for c in calls),
            steps=[self._step_row(r) for r in self._steps],
            model_calls=[self._model_row(r, span) for r, span in self._model_calls],
            tool_calls=[self._tool_row(r, span) for r, span in self._tool_calls],
            retrievals=[self._retrieval_row(r, span) for r, span in self._retrievals],
        )

    def _step_row(self, r: StepRecord) -> Row:
        error = None if r.error is None else self._redact(r.error)
        return (
            r.span_id, r.name, r.parent_span_id, r.status, r.attempts, r.duration_ms, error,
        )  # fmt: skip

    def _model_row(self, r: ModelCallRecord, span: str | None) -> Row:
        return (
            span, r.model, r.provider, self._json(r.messages), self._text(r.answer),
            self._json(r.tool_calls), r.prompt_tokens, r.completion_tokens, r.latency_ms,
            r.first_token_ms, r.finish_reason, self._error(r.error),
        )  # fmt: skip

    def _tool_row(self, r: ToolCallRecord, span: str | None) -> Row:
        return (
            span, r.id, r.name, self._json(r.arguments), r.ok, round(r.duration_s * 1000, 3),
            r.iteration, self._error(r.error), r.truncated, self._text(r.result_excerpt),
        )  # fmt: skip

    def _retrieval_row(self, r: RetrievalRecord, span: str | None) -> Row:
        hits = [dataclasses.asdict(hit) for hit in r.hits]
        if not self._config.store_content:  # headings say what a note is about; paths are kept
            hits = [{**hit, "heading": None} for hit in hits]
        return (
            span, self._text(r.query), self._json(r.filters),
            json.dumps(hits, ensure_ascii=False), r.duration_ms,
        )  # fmt: skip

    def _error(self, error: str | None) -> str | None:
        return None if error is None else self._redact(error)

    def _text(self, text: str | None) -> str | None:
        if text is None or not self._config.store_content:
            return None
        return _cut(self._redact(text), self._config.max_payload_chars)

    def _json(self, value: Any) -> str | None:
        """Content as JSON, secrets redacted and long strings cut, or None when content is off."""
        if value is None or not self._config.store_content:
            return None
        plain = scrub(_plain(value), self._redact)
        return json.dumps(_bounded(plain, self._config.max_payload_chars), ensure_ascii=False)


def record_notifications(
    settings: Settings, run_id: str, rows: Sequence[Row], *, path: Path | None = None
) -> None:
    """Add to a finished run's record where its result was sent and whether it arrived
    (rows in NOTIFICATION_COLUMNS order); like all recording, this never fails the command."""
    path = path or default_path()
    if settings.runs.enabled and path not in _broken:
        redact = Redactor(settings.secret_values())
        safe = [tuple(redact(v) if isinstance(v, str) else v for v in row) for row in rows]
        _safely(path, lambda store: store.add_notifications(run_id, safe))


def _safely(path: Path, write: Callable[[RunStore], None]) -> bool:
    """Run one database write; on failure warn (once per file) and stop recording to it."""
    store = _store_for(path)
    try:
        write(store)
    except (sqlite3.Error, OSError) as exc:
        _broken.add(path)
        store.close()
        logger.warning(
            "run records are off for this process: cannot write {}: {} "
            "(the run goes on; check the file or set runs.enabled: false)",
            path,
            exc,
        )
        return False
    return True


def _outcome(exc: BaseException | None) -> tuple[str, str | None, str | None, int | None]:
    """(status, error kind, message, exit code) for how the block ended."""
    if exc is None:
        return "ok", None, None, 0
    if isinstance(exc, InterruptedRunError | KeyboardInterrupt | asyncio.CancelledError):
        return "cancelled", "interrupted", "interrupted", InterruptedRunError.exit_code
    if isinstance(exc, LlmorchError):
        return "failed", exc.kind, str(exc), exc.exit_code
    return "failed", "exception", f"{type(exc).__name__}: {exc}", 1


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _bounded(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, dict):
        return {k: _bounded(v, limit) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_bounded(v, limit) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + CUT_MARKER.format(len(text) - limit)


def _total(counts: Iterable[int | None]) -> int | None:
    known = [c for c in counts if c is not None]
    return sum(known) if known else None
