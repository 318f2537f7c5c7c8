"""The conversation as typed values; each provider maps them to its own wire format."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

# Defined with the tools (the lower layer); also importable from here beside the messages.
from llmorch.tools.definition import ToolDefinition as ToolDefinition


class ToolCall(BaseModel):
    """A call the model asked for; `arguments` is the raw JSON text as the model wrote it."""

    id: str
    name: str
    arguments: str = "{}"


class SystemMessage(BaseModel):
    role: Literal["system"] = "system"
    content: str


class UserMessage(BaseModel):
    role: Literal["user"] = "user"
    content: str


class AssistantMessage(BaseModel):
    """What the model said: visible text, tool calls, and reasoning kept apart from the answer."""

    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list[ToolCall])
    reasoning: str | None = Field(
        default=None, description="<think> blocks and reasoning_content; never sent back."
    )


class ToolMessage(BaseModel):
    """A tool's result (or its error, so the model can recover) answering one tool call."""

    role: Literal["tool"] = "tool"
    tool_call_id: str
    name: str
    content: str


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_tokens=self.total_tokens + other.total_tokens,
        )


class Completion(BaseModel):
    """One model turn: the assistant message plus why it stopped and what it cost."""

    message: AssistantMessage
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    provider: str = Field(default="", description="Which provider answered: 'openai', 'anthropic'.")
