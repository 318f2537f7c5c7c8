"""What a run reports while it happens: steps, model calls, tool calls and retrieval hits.

Reporters (pipeline steps, the tool loop, model providers, the knowledge base) call
`current_observer()`; the run recorder installs itself with `observing()`. Nothing here touches
storage, so every layer may import it without a cycle.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

StepStatus = Literal["ok", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class StepRecord:
    name: str
    span_id: str
    parent_span_id: str | None
    status: StepStatus
    attempts: int
    duration_ms: float
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ModelCallRecord:
    """One request to a model; `messages` are the wire-neutral dumps of what was sent."""

    model: str
    provider: str
    messages: list[dict[str, Any]]
    answer: str | None
    tool_calls: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    latency_ms: float = 0.0
    first_token_ms: float | None = None
    finish_reason: str | None = None
    error: str | None = None
    span_id: str | None = None


@dataclass(frozen=True, slots=True)
class ToolCallRecord:
    """One executed (or refused) tool call: the only tool-call record type there is."""

    id: str
    name: str
    arguments: dict[str, Any]
    ok: bool
    duration_s: float
    iteration: int = 0
    error: str | None = None
    truncated: bool = False
    result_excerpt: str = ""


@dataclass(frozen=True, slots=True)
class RetrievedHit:
    path: str
    heading: str
    chunk: int
    score: float


@dataclass(frozen=True, slots=True)
class RetrievalRecord:
    query: str
    filters: dict[str, Any]
    hits: list[RetrievedHit]
    duration_ms: float = 0.0


class RunObserver(Protocol):
    """Receives a run's events as they happen. Must never raise into the run."""

    def step_finished(self, record: StepRecord) -> None: ...

    def model_call(self, record: ModelCallRecord) -> None: ...

    def tool_call(self, record: ToolCallRecord) -> None: ...

    def retrieval(self, record: RetrievalRecord) -> None: ...


_current: ContextVar[RunObserver | None] = ContextVar("llmorch_run_observer", default=None)


def current_observer() -> RunObserver | None:
    return _current.get()


@contextmanager
def observing(observer: RunObserver) -> Generator[RunObserver]:
    """Report every event inside the block (and the tasks it starts) to `observer`."""
    token = _current.set(observer)
    try:
        yield observer
    finally:
        _current.reset(token)
