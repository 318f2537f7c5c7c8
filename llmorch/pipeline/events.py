"""Who wants to know when a step starts and ends while it runs (a live progress view).

A context variable, not an argument: steps nested anywhere in a pipeline report without every
builder passing a callback down. With no listener set, a step pays one `ContextVar.get`.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol


class StepListener(Protocol):
    """Told of each step as it runs; must not raise (it would fail the step)."""

    def step_started(self, name: str, span_id: str) -> None: ...

    def step_ended(self, name: str, span_id: str, *, ok: bool, duration_ms: float) -> None: ...


_listener: ContextVar[StepListener | None] = ContextVar("llmorch_step_listener", default=None)


def step_listener() -> StepListener | None:
    return _listener.get()


@contextmanager
def listening_to_steps(listener: StepListener) -> Generator[StepListener]:
    """Report every step run inside the block (and the tasks it starts) to `listener`."""
    token = _listener.set(listener)
    try:
        yield listener
    finally:
        _listener.reset(token)
