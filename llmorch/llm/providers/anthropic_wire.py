"""llmorch's messages as Anthropic Messages API blocks, and its answers back as a Completion.

Anthropic keeps the system prompt apart, wants tool results as `tool_result` blocks in a user
turn (consecutive ones in one turn), and returns text, `thinking` and `tool_use` blocks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llmorch.llm.messages import (
    AssistantMessage,
    Completion,
    Message,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolMessage,
    Usage,
)

if TYPE_CHECKING:
    from anthropic.types import Message as AnthropicMessage
    from anthropic.types import MessageParam, ToolChoiceParam, ToolParam

_STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
"""Anthropic's stop reasons in the OpenAI words the tool loop and `--json` already use."""


def system_prompt(messages: Sequence[Message]) -> str | None:
    parts = [m.content for m in messages if isinstance(m, SystemMessage)]
    return "\n\n".join(parts) or None


def message_params(messages: Sequence[Message]) -> list[MessageParam]:
    """The turns after the system prompt; adjacent blocks of one role share one turn."""
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            continue
        role = "assistant" if isinstance(message, AssistantMessage) else "user"
        blocks = _blocks(message)
        if not blocks:
            continue
        if turns and turns[-1][0] == role:
            turns[-1][1].extend(blocks)
        else:
            turns.append((role, blocks))
    return [{"role": role, "content": blocks} for role, blocks in turns]  # pyright: ignore[reportReturnType]


def _blocks(message: Message) -> list[dict[str, Any]]:
    if isinstance(message, ToolMessage):
        return [
            {"type": "tool_result", "tool_use_id": message.tool_call_id, "content": message.content}
        ]
    if isinstance(message, AssistantMessage):
        blocks: list[dict[str, Any]] = []
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        for call in message.tool_calls:
            blocks.append(
                {"type": "tool_use", "id": call.id, "name": call.name, "input": _input(call)}
            )
        return blocks
    return [{"type": "text", "text": message.content}] if message.content else []


def _input(call: ToolCall) -> dict[str, Any]:
    """Anthropic wants the arguments as an object; a model's unparsable text becomes an empty one."""
    try:
        value: object = json.loads(call.arguments or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def tool_params(tools: Sequence[ToolDefinition]) -> list[ToolParam]:
    return [
        {"name": t.name, "description": t.description, "input_schema": t.parameters}  # pyright: ignore[reportAssignmentType]
        for t in tools
    ]


def tool_choice_param(choice: str) -> ToolChoiceParam:
    if choice == "auto":
        return {"type": "auto"}
    if choice == "none":
        return {"type": "none"}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


def stop_reason(reason: str | None) -> str | None:
    return None if reason is None else _STOP_REASONS.get(reason, reason)


def completion_from(response: AnthropicMessage) -> Completion:
    text: list[str] = []
    thinking: list[str] = []
    calls: list[ToolCall] = []
    for block in response.content:
        if block.type == "text":
            text.append(block.text)
        elif block.type == "thinking":
            thinking.append(block.thinking)
        elif block.type == "tool_use":
            calls.append(ToolCall(id=block.id, name=block.name, arguments=json.dumps(block.input)))
    usage = response.usage
    return Completion(
        message=AssistantMessage(
            content="".join(text) or None, tool_calls=calls, reasoning="".join(thinking) or None
        ),
        finish_reason=stop_reason(response.stop_reason),
        usage=Usage(
            prompt_tokens=usage.input_tokens,
            completion_tokens=usage.output_tokens,
            total_tokens=usage.input_tokens + usage.output_tokens,
        ),
        model=response.model,
        provider="anthropic",
    )
