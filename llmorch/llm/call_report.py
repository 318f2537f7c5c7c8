"""Reports each model request to the run being recorded. Any provider wraps its request in
`ModelCallReport`; when no run is recorded it costs one context-variable read."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from types import TracebackType

from llmorch.llm.messages import Completion, Message, ToolDefinition
from llmorch.llm.model import JsonSchemaFormat
from llmorch.llm.stream import StreamDone, StreamEvent
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


class ReportingModel(ABC):
    """The base of every provider: `complete` and `stream` report each request to the run being
    recorded, around the provider's own `_complete` and `_stream`."""

    @property
    @abstractmethod
    def provider(self) -> str: ...

    @abstractmethod
    async def model(self) -> str: ...

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: JsonSchemaFormat | None = None,
    ) -> Completion:
        """One whole turn. `tool_choice` is auto/none/required or a tool name to force."""
        with ModelCallReport(self.provider, await self.model(), messages) as call:
            return call.done(
                await self._complete(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    response_format=response_format,
                )
            )

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Text and reasoning deltas as they arrive, then one StreamDone with the whole turn."""
        with ModelCallReport(self.provider, await self.model(), messages) as call:
            async for event in self._stream(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                temperature=temperature,
                max_tokens=max_tokens,
            ):
                call.first_token()
                if isinstance(event, StreamDone):
                    call.done(event.completion)
                yield event

    @abstractmethod
    async def _complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition],
        tool_choice: str,
        temperature: float | None,
        max_tokens: int | None,
        response_format: JsonSchemaFormat | None,
    ) -> Completion: ...

    @abstractmethod
    def _stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition],
        tool_choice: str,
        temperature: float | None,
        max_tokens: int | None,
    ) -> AsyncIterator[StreamEvent]: ...
