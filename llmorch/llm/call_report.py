"""Reports each model request to the run being recorded. Any provider wraps its request in
`ModelCallReport`; when no run is recorded it costs one context-variable read."""

from __future__ import annotations

import time
from collections.abc import Sequence
from types import TracebackType

from llmorch.llm.messages import Completion, Message
from llmorch.logging import current_span_id
from llmorch.runs.observer import ModelCallRecord, current_observer


class ModelCallReport:
    """`with ModelCallReport(provider, model, messages) as call:` … `call.done(completion)`;
    a stream also calls `call.first_token()`. An exception leaving the block is the call's error."""

    __slots__ = ("_completion", "_first_at", "_messages", "_model", "_observer", "_provider", "_t0")

    def __init__(self, provider: str, model: str, messages: Sequence[Message]) -> None:
        self._observer = current_observer()
        self._provider = provider
        self._model = model
        self._messages = messages
        self._completion: Completion | None = None
        self._first_at: float | None = None
        self._t0 = time.perf_counter()

    def __enter__(self) -> ModelCallReport:
        return self

    def first_token(self) -> None:
        if self._first_at is None:
            self._first_at = time.perf_counter()

    def done(self, completion: Completion) -> Completion:
        self._completion = completion
        return completion

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._observer is None:
            return
        completion = self._completion
        error = None
        if completion is None:
            # An answered stream closed by its reader is no failure; one closed before is.
            error = "no complete answer" if exc is None else f"{type(exc).__name__}: {exc}"
        usage = completion.usage if completion is not None else None
        message = completion.message if completion is not None else None
        self._observer.model_call(
            ModelCallRecord(
                model=completion.model if completion is not None else self._model,
                provider=self._provider,
                messages=[m.model_dump(mode="json", exclude_none=True) for m in self._messages],
                answer=None if message is None else message.content,
                tool_calls=[]
                if message is None
                else [c.model_dump(mode="json") for c in message.tool_calls],
                prompt_tokens=None if usage is None else usage.prompt_tokens,
                completion_tokens=None if usage is None else usage.completion_tokens,
                latency_ms=(time.perf_counter() - self._t0) * 1000,
                first_token_ms=None
                if self._first_at is None
                else (self._first_at - self._t0) * 1000,
                finish_reason=None if completion is None else completion.finish_reason,
                error=error,
                span_id=current_span_id(),
            )
        )
