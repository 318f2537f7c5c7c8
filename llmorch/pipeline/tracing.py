"""One trace per pipeline run: reuse the trace id the caller already bound, else open one."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager

from llmorch.logging import current_trace_id, trace_context


@contextmanager
def ensure_trace() -> Generator[str]:
    """Yield the enclosing trace id, or bind a new one for the duration of the block."""
    existing = current_trace_id()
    if existing is not None:
        yield existing
        return
    with trace_context() as trace_id:
        yield trace_id
