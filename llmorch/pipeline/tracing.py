"""One trace per pipeline run: reuse the trace id the caller already bound in loguru, else open one."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import cast

import loguru._logger

from llmorch.logging import trace_context

# loguru keeps `contextualize` fields in this ContextVar and offers no public getter for them.
_LOGURU_CONTEXT = cast("ContextVar[dict[str, object]]", vars(loguru._logger)["context"])


def bound_trace_id() -> str | None:
    """The trace id bound by an enclosing `trace_context`, if any."""
    value = _LOGURU_CONTEXT.get().get("trace_id")
    return value if isinstance(value, str) else None


@contextmanager
def ensure_trace() -> Generator[str]:
    """Yield the enclosing trace id, or bind a new one for the duration of the block."""
    existing = bound_trace_id()
    if existing is not None:
        yield existing
        return
    with trace_context() as trace_id:
        yield trace_id
