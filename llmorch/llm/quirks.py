"""Repairs for how local models really answer: <think> blocks, reasoning fields, broken JSON
arguments, tool calls written as text, and tool names with stray punctuation."""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from llmorch.llm.messages import AssistantMessage, ToolCall

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_THINK_BLOCK = re.compile(r"<think>(.*?)(?:</think>|\Z)", re.DOTALL)
_TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|\Z)", re.DOTALL)
_CODE_FENCE = re.compile(r"\A```(?:json)?\s*(.*?)\s*```\Z", re.DOTALL)
# Punctuation models leave around a name: `search_knowledge_base:`, "`read_note`", "read_note()".
_NAME_NOISE = " \t\r\n:;,.'\"`()[]{}<>"
_NAMESPACE_PREFIXES = ("functions.", "function.", "tools.")


def split_think(text: str | None) -> tuple[str | None, str | None]:
    """Separate <think> blocks from the visible text; returns (visible, reasoning).

    Handles an unclosed block (the model ran out of tokens while thinking) and a lone closing
    tag (chat templates that open the block in the prompt, so only `</think>` is generated).
    """
    if not text or "think>" not in text:
        return text, None
    thoughts: list[str] = []
    head, sep, tail = text.partition(THINK_CLOSE)
    if sep and THINK_OPEN not in head:
        thoughts.append(head.strip())
        text = tail

    def keep(match: re.Match[str]) -> str:
        thoughts.append(match.group(1).strip())
        return ""

    visible = _THINK_BLOCK.sub(keep, text).strip()
    reasoning = "\n\n".join(t for t in thoughts if t)
    return visible or None, reasoning or None


class ThinkFilter:
    """Streaming counterpart of `split_think`: routes text deltas to visible or reasoning.

    A tag can arrive split over chunks, so a tail that could still become one is held back.
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._thinking = False
        self._seen_visible = False

    def feed(self, chunk: str) -> tuple[str, str]:
        """Returns (visible, reasoning) text that is safe to show now."""
        self._buffer += chunk
        visible: list[str] = []
        reasoning: list[str] = []
        while True:
            tag = THINK_CLOSE if self._thinking else THINK_OPEN
            index = self._buffer.find(tag)
            if index < 0:
                break
            (reasoning if self._thinking else visible).append(self._buffer[:index])
            self._buffer = self._buffer[index + len(tag) :]
            self._thinking = not self._thinking
        held = _partial_tag_length(self._buffer, THINK_CLOSE if self._thinking else THINK_OPEN)
        ready, self._buffer = (
            self._buffer[: len(self._buffer) - held],
            self._buffer[len(self._buffer) - held :],
        )
        (reasoning if self._thinking else visible).append(ready)
        return self._visible("".join(visible)), "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        rest, self._buffer = self._buffer, ""
        if self._thinking:
            return "", rest
        return self._visible(rest), ""

    def _visible(self, text: str) -> str:
        # Answers after a think block start with blank lines; drop them until real text arrives.
        if not self._seen_visible:
            text = text.lstrip()
            self._seen_visible = bool(text)
        return text


def _partial_tag_length(text: str, tag: str) -> int:
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def strip_name_noise(name: str) -> str:
    return name.strip(_NAME_NOISE)


def resolve_tool_name(name: str, known: Collection[str]) -> str:
    """Map what the model wrote to a registered tool name; unknown names come back cleaned."""
    if name in known:
        return name
    cleaned = strip_name_noise(name)
    for prefix in _NAMESPACE_PREFIXES:
        cleaned = cleaned.removeprefix(prefix)
    if cleaned in known:
        return cleaned
    folded = {k.casefold().replace("-", "_"): k for k in known}
    return folded.get(cleaned.casefold().replace("-", "_"), cleaned)


def parse_arguments(raw: str) -> dict[str, Any]:
    """Arguments JSON as an object: strict JSON first, then json-repair; ValueError if hopeless."""
    text = raw.strip()
    if not text:
        return {}
    try:
        value: Any = json.loads(text)
    except ValueError:
        value = _repair(text)
    if isinstance(value, str) and value.strip().startswith("{"):
        # Some servers double-encode: the arguments are a JSON string holding the JSON object.
        value = _repair(value)
    if not isinstance(value, dict):
        raise ValueError(f"arguments must be a JSON object, got: {_preview(raw)}")
    return value  # pyright: ignore[reportUnknownVariableType]


def _repair(text: str) -> Any:
    import json_repair

    return json_repair.loads(text)


def _preview(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def extract_text_tool_calls(
    content: str | None, known: Collection[str]
) -> tuple[str | None, list[ToolCall]]:
    """Find tool calls a model wrote into its text instead of `tool_calls`.

    Two shapes are recognised: `<tool_call>{"name": …, "arguments": …}</tool_call>` (Hermes and
    Qwen templates) and a whole answer that is bare JSON naming a known tool. Returns the text
    left over and the calls; text that only looks like JSON but names no known tool is kept.
    """
    if not content or not known:
        return content, []
    if "<tool_call>" in content:
        calls = [
            call
            for n, payload in enumerate(_TOOL_CALL_TAG.findall(content))
            for call in _calls_from_json(payload, known, n)
        ]
        if calls:
            rest = _TOOL_CALL_TAG.sub("", content).strip()
            return rest or None, calls
    stripped = content.strip()
    fenced = _CODE_FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    if stripped.startswith(("{", "[")):
        calls = _calls_from_json(stripped, known, 0)
        if calls:
            return None, calls
    return content, []


def _calls_from_json(payload: str, known: Collection[str], start: int) -> list[ToolCall]:
    try:
        value: Any = json.loads(payload)
    except ValueError:
        value = _repair(payload)
    items: list[Any] = value if isinstance(value, list) else [value]  # pyright: ignore[reportUnknownVariableType]
    calls: list[ToolCall] = []
    for offset, item in enumerate(items):
        call = _call_from_object(item, known, start + offset)
        if call is None:
            return []
        calls.append(call)
    return calls


def _call_from_object(item: Any, known: Collection[str], n: int) -> ToolCall | None:
    if not isinstance(item, dict):
        return None
    fields: dict[str, Any] = item  # pyright: ignore[reportUnknownVariableType]
    name = fields.get("name")
    if not isinstance(name, str) or resolve_tool_name(name, known) not in known:
        return None
    args: Any = fields.get("arguments", fields.get("parameters", {}))
    arguments = args if isinstance(args, str) else json.dumps(args)
    return ToolCall(id=f"text_call_{n}", name=resolve_tool_name(name, known), arguments=arguments)


def reasoning_from_extra(extra: dict[str, Any] | None) -> str | None:
    """Reasoning text from a message's non-standard fields, if the server sent any."""
    # DeepSeek, vLLM and llama.cpp call it reasoning_content; Ollama and OpenRouter, reasoning.
    if not extra:
        return None
    value = extra.get("reasoning_content") or extra.get("reasoning")
    return value if isinstance(value, str) else None


def assistant_from_parts(
    content: str | None,
    reasoning_content: str | None,
    tool_calls: list[ToolCall],
    function_call: ToolCall | None,
) -> AssistantMessage:
    """Build the assistant message from what the server sent, with the quirks smoothed out.

    `tool_calls` wins over the legacy `function_call` (llama-cpp-python fills both, and only the
    former has a clean name); names lose stray punctuation either way.
    """
    visible, thought = split_think(content)
    reasoning = "\n\n".join(r for r in (reasoning_content, thought) if r) or None
    calls = tool_calls or ([function_call] if function_call is not None else [])
    cleaned = [c.model_copy(update={"name": strip_name_noise(c.name)}) for c in calls]
    return AssistantMessage(content=visible, tool_calls=cleaned, reasoning=reasoning)
