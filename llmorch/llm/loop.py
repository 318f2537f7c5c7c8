"""The tool-calling loop: ask the model, run the tools it calls, feed results back, until it answers.

Bounded and forgiving: unknown tools, bad arguments and tool failures go back to the model as tool
messages so it can recover; a failing call it keeps repeating is cut short; after the iteration
bound a last turn without tools asks for the answer. Every run ends with a LoopResult.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from llmorch.llm.messages import (
    AssistantMessage,
    Completion,
    Message,
    ToolCall,
    ToolMessage,
    Usage,
)
from llmorch.llm.quirks import extract_text_tool_calls, parse_arguments, resolve_tool_name
from llmorch.llm.stream import StreamDone, TextDelta
from llmorch.pipeline import Step
from llmorch.pipeline.tracing import ensure_trace
from llmorch.runs.observer import ToolCallRecord, current_observer
from llmorch.tools.definition import ToolDefinition

if TYPE_CHECKING:
    from llmorch.llm.model import ChatModel
    from llmorch.tools.base import ToolRegistry

LoopFinish = Literal["answer", "length", "max_iterations", "repeated_failure"]
"""Why the loop ended: a normal answer; an answer cut at the token limit; the iteration bound was
reached; or the model kept repeating a call that had already failed. The last two still carry
whatever answer a final tool-less turn produced."""

_REPEAT_WARNING = (
    "this exact call already failed ({error}). Do not repeat it: change the arguments, "
    "use another tool, or answer with what you have."
)
_MAX_REPEATS = 2  # identical failing calls tolerated (answered with a warning) before stopping


@dataclass(frozen=True, slots=True)
class ToolStarted:
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolFinished:
    record: ToolCallRecord


LoopEvent = ToolStarted | ToolFinished


@dataclass(frozen=True, slots=True)
class LoopResult:
    answer: str
    finish_reason: LoopFinish
    messages: list[Message]
    tool_calls: list[ToolCallRecord]
    usage: Usage
    iterations: int
    trace_id: str
    reasoning: str | None = None


@dataclass(slots=True)
class _TurnInput:
    messages: list[Message]
    tools: Sequence[ToolDefinition]
    tool_choice: str


@dataclass(slots=True)
class _Run:
    """Mutable state of one run; kept out of ToolLoop so one loop can serve concurrent runs."""

    history: list[Message]
    on_text: Callable[[str], None] | None
    on_event: Callable[[LoopEvent], None] | None
    on_reasoning: Callable[[str], None] | None = None
    usage: Usage = field(default_factory=Usage)
    records: list[ToolCallRecord] = field(default_factory=list[ToolCallRecord])
    failures: dict[str, str] = field(default_factory=dict[str, str])
    repeats: int = 0


class ToolLoop:
    """Runs conversations against one client and tool registry. Reusable and safe to share."""

    def __init__(
        self,
        client: ChatModel,
        registry: ToolRegistry,
        *,
        max_iterations: int = 6,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> None:
        if max_iterations < 1:
            raise ValueError("max_iterations must be at least 1")
        self.client = client
        self.registry = registry
        self.max_iterations = max_iterations
        self.temperature = temperature
        self.max_tokens = max_tokens
        # Retries of HTTP failures (429/5xx/timeouts, Retry-After) happen in the SDK, so the turn
        # step itself does not retry; it gives each turn a span, timing and a typed failure.
        self._turn_step: Step[_TurnInput, Completion, _Run] = Step(self._turn, name="llm_turn")
        self._tool_step: Step[tuple[ToolCall, int], ToolMessage, _Run] = Step(
            self._call_tool, name="tool_call"
        )

    async def run(
        self,
        messages: Sequence[Message],
        *,
        tool_choice: str = "auto",
        on_text: Callable[[str], None] | None = None,
        on_event: Callable[[LoopEvent], None] | None = None,
        on_reasoning: Callable[[str], None] | None = None,
    ) -> LoopResult:
        """Converse until the model answers. `tool_choice` (auto/none/required/a tool name) applies
        to the first turn only; `on_text` gets the answer's text as it streams (and turns on
        streaming); `on_reasoning` gets every turn's reasoning, streamed or whole."""
        with ensure_trace() as trace_id:
            run = _Run(list(messages), on_text, on_event, on_reasoning)
            definitions = self.registry.definitions()
            choice = tool_choice
            for iteration in range(1, self.max_iterations + 1):
                message, finish = await self._ask(run, definitions, choice)
                if not message.tool_calls:
                    reason: LoopFinish = "length" if finish == "length" else "answer"
                    return self._result(run, message, reason, iteration, trace_id)
                choice = "auto"
                tool_messages = await asyncio.gather(
                    *(self._tool(run, call, iteration) for call in message.tool_calls)
                )
                run.history.extend(tool_messages)
                if run.repeats >= _MAX_REPEATS:
                    return await self._final(run, "repeated_failure", iteration, trace_id)
            return await self._final(run, "max_iterations", self.max_iterations, trace_id)

    async def _final(
        self, run: _Run, reason: LoopFinish, iterations: int, trace_id: str
    ) -> LoopResult:
        """One last turn with no tools offered, so the user still gets an answer."""
        message, _ = await self._ask(run, (), "none")
        return self._result(run, message, reason, iterations, trace_id)

    async def _ask(
        self, run: _Run, tools: Sequence[ToolDefinition], tool_choice: str
    ) -> tuple[AssistantMessage, str | None]:
        turn = _TurnInput(list(run.history), tools, tool_choice)
        completion = (await self._turn_step.run(turn, run)).unwrap()
        if completion.usage is not None:
            run.usage = run.usage + completion.usage
        message = completion.message
        run.history.append(message)
        return message, completion.finish_reason

    async def _turn(self, turn: _TurnInput, run: _Run) -> Completion:
        options: dict[str, Any] = {
            "tools": turn.tools,
            "tool_choice": turn.tool_choice,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        if run.on_text is None:
            completion = await self.client.complete(turn.messages, **options)
            if run.on_reasoning is not None and completion.message.reasoning:
                run.on_reasoning(completion.message.reasoning)
            return self._with_text_calls(completion, turn)
        gate = _TextGate(run.on_text)
        async for event in self.client.stream(turn.messages, **options):
            if isinstance(event, StreamDone):
                completion = self._with_text_calls(event.completion, turn)
                gate.finish(completion.message.content)
                return completion
            if isinstance(event, TextDelta):
                gate.feed(event.text)
            elif run.on_reasoning is not None:
                run.on_reasoning(event.text)
        raise AssertionError("the client's stream always ends with StreamDone")

    def _with_text_calls(self, completion: Completion, turn: _TurnInput) -> Completion:
        """Tool calls the model wrote into its text become real calls (only when tools were offered)."""
        message = completion.message
        if not turn.tools or message.tool_calls:
            return completion
        rest, calls = extract_text_tool_calls(message.content, self.registry.names())
        if not calls:
            return completion
        message = message.model_copy(update={"content": rest, "tool_calls": calls})
        return completion.model_copy(update={"message": message})

    async def _tool(self, run: _Run, call: ToolCall, iteration: int) -> ToolMessage:
        return (await self._tool_step.run((call, iteration), run)).unwrap()

    async def _call_tool(self, job: tuple[ToolCall, int], run: _Run) -> ToolMessage:
        call, iteration = job
        name = resolve_tool_name(call.name, self.registry.names())
        try:
            arguments = parse_arguments(call.arguments)
        except ValueError as exc:
            return self._refused(run, call, name, {}, iteration, f"invalid arguments: {exc}")
        key = _call_key(name, arguments)
        if key in run.failures:
            run.repeats += 1
            warning = _REPEAT_WARNING.format(error=run.failures[key])
            return self._refused(run, call, name, arguments, iteration, warning)
        if run.on_event is not None:
            run.on_event(ToolStarted(call.id, name, arguments))
        result = await self.registry.call(name, arguments)
        if not result.ok and result.error is not None:
            run.failures[key] = result.error
        record = result.record(call.id, iteration)
        self._record(run, record)
        return ToolMessage(tool_call_id=call.id, name=name, content=result.content)

    def _refused(
        self,
        run: _Run,
        call: ToolCall,
        name: str,
        arguments: dict[str, Any],
        iteration: int,
        error: str,
    ) -> ToolMessage:
        """A call answered without running the tool (arguments unreadable, or a repeat)."""
        record = ToolCallRecord(call.id, name, arguments, False, 0.0, iteration, error)
        self._record(run, record)
        return ToolMessage(tool_call_id=call.id, name=name, content=f"error: {error}")

    def _record(self, run: _Run, record: ToolCallRecord) -> None:
        run.records.append(record)
        if (observer := current_observer()) is not None:
            observer.tool_call(record)
        if run.on_event is not None:
            run.on_event(ToolFinished(record))

    def _result(
        self,
        run: _Run,
        message: AssistantMessage,
        reason: LoopFinish,
        iterations: int,
        trace_id: str,
    ) -> LoopResult:
        return LoopResult(
            answer=message.content or "",
            finish_reason=reason,
            messages=run.history,
            tool_calls=run.records,
            usage=run.usage,
            iterations=iterations,
            trace_id=trace_id,
            reasoning=message.reasoning,
        )


def _call_key(name: str, arguments: dict[str, Any]) -> str:
    return name + json.dumps(arguments, sort_keys=True, default=str)


class _TextGate:
    """Passes streamed answer text on, except text that may be a tool call written as text.

    An answer starting like JSON or `<tool_call>` is held until the turn ends; then only what is
    left once such calls are taken out (often nothing) is released.
    """

    _SUSPECT_PREFIXES = ("{", "[", "<tool_call>", "```")

    def __init__(self, sink: Callable[[str], None]) -> None:
        self._sink = sink
        self._held: list[str] = []
        self._holding: bool | None = None  # undecided until the start of the text is clear

    def feed(self, text: str) -> None:
        if self._holding is False:
            self._sink(text)
            return
        self._held.append(text)
        if self._holding:
            return
        start = "".join(self._held).lstrip()
        if not start or any(p.startswith(start) for p in self._SUSPECT_PREFIXES):
            return  # blank so far, or still ambiguous ("<tool" may become "<tool_call>")
        self._holding = any(start.startswith(p) for p in self._SUSPECT_PREFIXES)
        if not self._holding:
            self._sink(start)
            self._held.clear()

    def finish(self, remaining_text: str | None) -> None:
        """End of turn: release held text as it stands once text tool calls are removed."""
        if self._held and remaining_text:
            self._sink(remaining_text)
        self._held.clear()
