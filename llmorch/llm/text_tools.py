"""Tool calls for models without native ones: tools described in the prompt, calls written as text.

The model is asked to answer `<tool_call>{"name": …, "arguments": …}</tool_call>`, the shape the
tool loop already finds in text (llm/quirks.py); earlier calls and their results go back as plain
assistant and user turns, which every chat template accepts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from llmorch.llm.messages import (
    AssistantMessage,
    Message,
    SystemMessage,
    ToolDefinition,
    ToolMessage,
    UserMessage,
)

_INSTRUCTIONS = """You can call these tools:
{tools}

To call one, answer with only
<tool_call>{{"name": "<tool name>", "arguments": {{...}}}}</tool_call>
and wait for its result. When you have what you need, answer normally."""


def prompted_tools(messages: Sequence[Message], tools: Sequence[ToolDefinition]) -> list[Message]:
    """The conversation with the tools described in the system prompt and no tool-role turns."""
    described = "\n".join(
        f"- {t.name}: {t.description} Arguments (JSON Schema): {json.dumps(t.parameters)}"
        for t in tools
    )
    guide = _INSTRUCTIONS.format(tools=described)
    out: list[Message] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            out.append(SystemMessage(content=f"{message.content}\n\n{guide}"))
        elif isinstance(message, AssistantMessage) and message.tool_calls:
            calls = "".join(
                f'<tool_call>{{"name": {json.dumps(c.name)}, "arguments": {c.arguments}}}</tool_call>'
                for c in message.tool_calls
            )
            out.append(AssistantMessage(content=f"{message.content or ''}{calls}"))
        elif isinstance(message, ToolMessage):
            out.append(UserMessage(content=f"Result of {message.name}:\n{message.content}"))
        else:
            out.append(message)
    if not any(isinstance(m, SystemMessage) for m in out):
        out.insert(0, SystemMessage(content=guide))
    return out
