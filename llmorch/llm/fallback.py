"""A chain of models that answers with the first one whose server is up.

Only failures another server could avoid move down the chain (unreachable, timeouts, 5xx, 429
after retries, a server that is not an API); a client error (bad request, auth, context too long)
would fail the same way there, so it is raised, saying why the chain stopped. A stream moves on
only before its first event: words already shown cannot be taken back.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

from llmorch.errors import LlmorchError, LlmUnavailableError, LlmUnreachableError
from llmorch.llm.messages import Completion, Message, ToolDefinition
from llmorch.llm.model import ChatModel, JsonSchemaFormat, ModelCapabilities
from llmorch.llm.stream import StreamEvent
from llmorch.logging import logger

T = TypeVar("T")

Named = tuple[str, ChatModel]
"""A profile name and its model."""


def switches_profile(exc: LlmorchError) -> bool:
    """Whether another server might succeed where this one failed."""
    return isinstance(exc, LlmUnreachableError | LlmUnavailableError)


class FallbackModel:
    """A ChatModel over profiles tried in order; `answered` says which one answered last."""

    def __init__(
        self, models: Sequence[Named], *, on_switch: Callable[[str], None] | None = None
    ) -> None:
        if not models:
            raise ValueError("a fallback chain needs at least one model")
        self._models = list(models)
        self._on_switch = on_switch
        self._active = 0

    @property
    def answered(self) -> str:
        """The profile that answered the last call (the first one before any call)."""
        return self._models[self._active][0]

    @property
    def provider(self) -> str:
        return self._models[self._active][1].provider

    @property
    def base_url(self) -> str:
        return self._models[self._active][1].base_url

    async def model(self) -> str:
        return await self._first_that_answers(lambda m: m.model())

    async def list_models(self) -> list[str]:
        return await self._first_that_answers(lambda m: m.list_models())

    async def capabilities(self) -> ModelCapabilities:
        return await self._models[self._active][1].capabilities()

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
        return await self._first_that_answers(
            lambda m: m.complete(
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
        failures: list[tuple[str, LlmorchError]] = []
        for index, (name, model) in enumerate(self._models):
            started = False
            begun = time.perf_counter()
            try:
                async for event in model.stream(
                    messages,
                    tools=tools,
                    tool_choice=tool_choice,
                    temperature=temperature,
                    max_tokens=max_tokens,
                ):
                    if not started:
                        started = True
                        self._active = index
                    yield event
                return
            except LlmorchError as exc:
                if started:
                    raise
                failures.append((name, exc))
                self._next_or_raise(index, failures, time.perf_counter() - begun)

    async def aclose(self) -> None:
        for _, model in self._models:
            await model.aclose()

    async def _first_that_answers(self, call: Callable[[ChatModel], Awaitable[T]]) -> T:
        failures: list[tuple[str, LlmorchError]] = []
        for index, (name, model) in enumerate(self._models):
            begun = time.perf_counter()
            try:
                result = await call(model)
            except LlmorchError as exc:
                failures.append((name, exc))
                self._next_or_raise(index, failures, time.perf_counter() - begun)
                continue
            self._active = index
            return result
        raise AssertionError("the last profile's failure is always raised")

    def _next_or_raise(
        self, index: int, failures: list[tuple[str, LlmorchError]], spent_s: float
    ) -> None:
        """Announce the move to the next profile, or raise when the chain must stop here."""
        name, exc = failures[-1]
        rest = [n for n, _ in self._models[index + 1 :]]
        if not rest:
            raise _joined(failures)
        if not switches_profile(exc):
            raise type(exc)(
                f"{exc.message} (not passed to {', '.join(rest)}: "
                "a client error would fail the same way there)",
                hint=exc.hint,
            ) from exc
        note = f"{name} failed after {spent_s * 1000:.0f} ms ({exc.message}); trying {rest[0]}"
        if self._on_switch is not None:
            self._on_switch(note)
        else:  # no one to tell directly (a timer, the server): the log says it
            logger.warning(note)


def _joined(failures: list[tuple[str, LlmorchError]]) -> LlmorchError:
    """The last failure, with what the earlier profiles said, so one line tells the whole story."""
    name, last = failures[-1]
    if len(failures) == 1:
        return last
    earlier = "; ".join(f"{n}: {e.message}" for n, e in failures[:-1])
    return type(last)(f"{name}: {last.message} (after {earlier})", hint=last.hint)
