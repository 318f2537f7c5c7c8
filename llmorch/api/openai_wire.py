"""The OpenAI chat-completions wire shapes the server reads and writes: the request body,
streamed chunks, and the numbered sources block appended to an answer."""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from llmorch.api.errors import HttpError

if TYPE_CHECKING:
    from llmorch.workflows.citations import Source

MODEL_PREFIX = "llmorch-"


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class _MessageIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[_Part] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "".join(p.text or "" for p in self.content if p.type == "text")
        return self.content or ""


class ChatCompletionBody(BaseModel):
    """What OpenAI clients send; sampling options are accepted and left to the configured model."""

    model_config = ConfigDict(extra="allow")
    model: str
    messages: list[_MessageIn] = Field(min_length=1)
    stream: bool = False
    stream_options: dict[str, Any] | None = None


def last_question(body: ChatCompletionBody) -> str:
    last = body.messages[-1]
    if last.role != "user" or not last.text().strip():
        raise HttpError(422, "invalid_request", "the last message must be the user's question")
    return last.text().strip()


def sources_block(sources: list[Source]) -> str:
    if not sources:
        return ""
    lines = [f"[{s.n}] {s.citation}" for s in sources]
    return "\n\nSources:\n" + "\n".join(lines)


def completion_id() -> str:
    return "chatcmpl-" + secrets.token_hex(12)


class ChunkWriter:
    """`chat.completion.chunk` SSE events of one streamed answer (one id, one creation time)."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = completion_id()
        self.created = int(time.time())

    def __call__(self, delta: dict[str, Any], finish: str | None = None) -> str:
        return self._event([{"index": 0, "delta": delta, "finish_reason": finish}])

    def usage(self, usage: dict[str, Any], extension: dict[str, Any]) -> str:
        """The extra last chunk `stream_options.include_usage` asks for: usage and no choices."""
        return self._event([], usage=usage, llmorch=extension)

    def _event(self, choices: list[dict[str, Any]], **extra: Any) -> str:
        event = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": choices,
            **extra,
        }
        return f"data: {json.dumps(event)}\n\n"
