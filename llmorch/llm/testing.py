"""`ScriptedModel`: a `ChatModel` that answers from a script, for testing workflows without HTTP.

Give it replies in order, or a function of each call; it records every call (messages, tools,
response_format), can wait before answering (to show what overlaps), streams its text as deltas
and counts how many calls were in flight at once:

    model = ScriptedModel(["first answer", tool_call("search", query="tea"), "done [1]"])
    model = ScriptedModel(lambda call: f"you said {call.last_user_text()}", delay_s=0.2)
"""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from llmorch.errors import LlmError, LlmorchError
from llmorch.llm.messages import (
    AssistantMessage,
    Completion,
    Message,
    ToolCall,
    ToolDefinition,
    Usage,
    UserMessage,
)
from llmorch.llm.model import JsonSchemaFormat, ModelCapabilities
from llmorch.llm.stream import StreamDone, StreamEvent, TextDelta

Reply = str | AssistantMessage | LlmorchError
"""Text, a whole assistant turn (tool calls), or an error to raise as the model call's failure."""

ReplyFunction = Callable[["ModelCall"], Reply | Awaitable[Reply]]


@dataclass(frozen=True)
class ModelCall:
    """One request the model received, as the caller made it."""

    messages: list[Message]
    tools: list[ToolDefinition]
    tool_choice: str
    response_format: JsonSchemaFormat | None
    streamed: bool

    def last_user_text(self) -> str:
        """The latest user turn's text ('' when there is none): what most scripts answer."""
        users = [m for m in self.messages if isinstance(m, UserMessage)]
        return users[-1].content if users else ""


def tool_call(name: str, /, **arguments: Any) -> AssistantMessage:
    """A scripted turn in which the model calls `name` with `arguments`."""
    return AssistantMessage(
        tool_calls=[ToolCall(id=f"call_{name}", name=name, arguments=json.dumps(arguments))]
    )


class ScriptedModel:
    """Answers each call with the next scripted reply (or `script(call)`); records the calls."""

    def __init__(
        self,
        replies: Iterable[Reply] | ReplyFunction = (),
        *,
        delay_s: float = 0.0,
        name: str = "scripted-model",
        capabilities: ModelCapabilities | None = None,
        chunk_chars: int = 8,
    ) -> None:
        self._script: ReplyFunction | None = replies if callable(replies) else None
        self._replies: list[Reply] = [] if callable(replies) else list(replies)
        self.delay_s = delay_s
        self._name = name
        self._capabilities = capabilities or ModelCapabilities()
        self._chunk_chars = max(1, chunk_chars)
        self.calls: list[ModelCall] = []
        self.in_flight = 0
        self.max_in_flight = 0

    @property
    def provider(self) -> str:
        return "scripted"

    @property
    def base_url(self) -> str:
        return ""

    async def model(self) -> str:
        return self._name

    async def list_models(self) -> list[str]:
        return [self._name]

    async def capabilities(self) -> ModelCapabilities:
        return self._capabilities

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
        call = ModelCall(list(messages), list(tools), tool_choice, response_format, streamed=False)
        return await self._answer(call)

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        call = ModelCall(list(messages), list(tools), tool_choice, None, streamed=True)
        completion = await self._answer(call)
        text = completion.message.content or ""
        for start in range(0, len(text), self._chunk_chars):
            yield TextDelta(text[start : start + self._chunk_chars])
        yield StreamDone(completion)

    async def aclose(self) -> None:
        return None

    async def _answer(self, call: ModelCall) -> Completion:
        self.calls.append(call)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            reply = await self._next_reply(call)
        finally:
            self.in_flight -= 1
        if isinstance(reply, LlmorchError):
            raise reply
        message = reply if isinstance(reply, AssistantMessage) else AssistantMessage(content=reply)
        return Completion(
            message=message,
            finish_reason="tool_calls" if message.tool_calls else "stop",
            usage=_usage(call.messages, message),
            model=self._name,
        )

    async def _next_reply(self, call: ModelCall) -> Reply:
        if self._script is not None:
            reply = self._script(call)
            return await reply if inspect.isawaitable(reply) else reply
        if not self._replies:
            raise LlmError(f"the scripted model has no reply left for call {len(self.calls)}")
        return self._replies.pop(0)


def _usage(messages: Sequence[Message], reply: AssistantMessage) -> Usage:
    """Word counts stand in for tokens: enough for tests that add usage up."""
    prompt = sum(len(str(getattr(m, "content", "") or "").split()) for m in messages)
    completion = len((reply.content or "").split()) + len(reply.tool_calls)
    return Usage(
        prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
    )
