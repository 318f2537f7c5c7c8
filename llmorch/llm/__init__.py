"""Talking to model servers: typed messages, the ChatModel seam, one client, the tool loop."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.llm.client import LlmClient
    from llmorch.llm.loop import LoopResult, ToolLoop
    from llmorch.llm.messages import (
        AssistantMessage,
        Completion,
        Message,
        SystemMessage,
        ToolCall,
        ToolMessage,
        Usage,
        UserMessage,
    )
    from llmorch.llm.model import ChatModel, JsonSchemaFormat, ModelCapabilities
    from llmorch.llm.stream import ReasoningDelta, StreamDone, StreamEvent, TextDelta

__all__ = [
    "AssistantMessage",
    "ChatModel",
    "Completion",
    "JsonSchemaFormat",
    "LlmClient",
    "LoopResult",
    "Message",
    "ModelCapabilities",
    "ReasoningDelta",
    "StreamDone",
    "StreamEvent",
    "SystemMessage",
    "TextDelta",
    "ToolCall",
    "ToolLoop",
    "ToolMessage",
    "Usage",
    "UserMessage",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "client": ["LlmClient"],
        "loop": ["LoopResult", "ToolLoop"],
        "messages": [
            "AssistantMessage",
            "Completion",
            "Message",
            "SystemMessage",
            "ToolCall",
            "ToolMessage",
            "Usage",
            "UserMessage",
        ],
        "model": ["ChatModel", "JsonSchemaFormat", "ModelCapabilities"],
        "stream": ["ReasoningDelta", "StreamDone", "StreamEvent", "TextDelta"],
    },
)
