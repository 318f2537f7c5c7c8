"""Streaming: the events a caller sees, and the assembly of SSE chunks into one whole turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmorch.llm.messages import Completion, ToolCall, Usage
from llmorch.llm.quirks import ThinkFilter, assistant_from_parts, reasoning_from_extra

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionChunk


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Visible answer text, already free of <think> blocks."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Reasoning text (`reasoning_content` or a <think> block) as it arrives."""

    text: str


@dataclass(frozen=True, slots=True)
class StreamDone:
    """The last event: the whole turn, tool calls assembled and usage (when the server sent it)."""

    completion: Completion


StreamEvent = TextDelta | ReasoningDelta | StreamDone


@dataclass(slots=True)
class _PartialCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list[str])


@dataclass(slots=True)
class StreamAssembler:
    """Feeds on chunks, yields deltas, and builds the final Completion at the end."""

    _content: list[str] = field(default_factory=list[str])
    _reasoning: list[str] = field(default_factory=list[str])
    _calls: dict[int, _PartialCall] = field(default_factory=dict[int, _PartialCall])
    _function_call: _PartialCall | None = None
    _think: ThinkFilter = field(default_factory=ThinkFilter)
    _finish_reason: str | None = None
    _usage: Usage | None = None
    _model: str = ""

    def feed(self, chunk: ChatCompletionChunk) -> list[TextDelta | ReasoningDelta]:
        self._model = chunk.model or self._model
        if chunk.usage is not None:
            self._usage = Usage(
                prompt_tokens=chunk.usage.prompt_tokens,
                completion_tokens=chunk.usage.completion_tokens,
                total_tokens=chunk.usage.total_tokens,
            )
        events: list[TextDelta | ReasoningDelta] = []
        for choice in chunk.choices:
            if choice.index != 0:
                continue
            self._finish_reason = choice.finish_reason or self._finish_reason
            delta = choice.delta
            extra_reasoning = reasoning_from_extra(delta.model_extra)
            if extra_reasoning:
                self._reasoning.append(extra_reasoning)
                events.append(ReasoningDelta(extra_reasoning))
            if delta.content:
                self._content.append(delta.content)
                events.extend(_deltas(*self._think.feed(delta.content)))
            for call in delta.tool_calls or ():
                partial = self._calls.setdefault(call.index, _PartialCall())
                partial.id = partial.id or (call.id or "")
                if call.function is not None:
                    # Servers send the name whole in the first delta, but some resend it later.
                    if call.function.name and not partial.name:
                        partial.name = call.function.name
                    if call.function.arguments:
                        partial.arguments.append(call.function.arguments)
            if delta.function_call is not None:
                legacy = self._function_call = self._function_call or _PartialCall(id="call_0")
                legacy.name = legacy.name or (delta.function_call.name or "")
                if delta.function_call.arguments:
                    legacy.arguments.append(delta.function_call.arguments)
        return events

    def finish(self) -> tuple[list[TextDelta | ReasoningDelta], Completion]:
        """Flush held-back text and build the turn; call once, after the last chunk."""
        tail = _deltas(*self._think.flush())
        calls = [
            ToolCall(id=p.id or f"call_{i}", name=p.name, arguments="".join(p.arguments) or "{}")
            for i, p in sorted(self._calls.items())
        ]
        legacy = self._function_call
        message = assistant_from_parts(
            "".join(self._content) or None,
            "".join(self._reasoning) or None,
            calls,
            None
            if legacy is None
            else ToolCall(id=legacy.id, name=legacy.name, arguments="".join(legacy.arguments)),
        )
        completion = Completion(
            message=message, finish_reason=self._finish_reason, usage=self._usage, model=self._model
        )
        return tail, completion


def _deltas(visible: str, reasoning: str) -> list[TextDelta | ReasoningDelta]:
    events: list[TextDelta | ReasoningDelta] = []
    if reasoning:
        events.append(ReasoningDelta(reasoning))
    if visible:
        events.append(TextDelta(visible))
    return events
