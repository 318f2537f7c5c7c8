"""A scripted OpenAI-compatible server inside an httpx2.MockTransport, and response builders.

Imported by the llm tests (pytest puts this folder on sys.path); fixtures live in conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from llmorch.llm.client import LlmClient

ClientFactory = Callable[..., LlmClient]
Reply = httpx2.Response | Callable[[httpx2.Request], httpx2.Response]


def chat_body(
    content: str | None = None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    usage: tuple[int, int] = (10, 5),
    **extra_message_fields: Any,
) -> dict[str, Any]:
    """A /chat/completions response body shaped like the servers send it."""
    message: dict[str, Any] = {"role": "assistant", "content": content, **extra_message_fields}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "scripted-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        },
    }


def tool_call(
    name: str, arguments: str | dict[str, Any], call_id: str = "call_1"
) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": args}}


def sse(chunks: list[dict[str, Any]]) -> httpx2.Response:
    """A streamed answer: each chunk as one `data:` event, then [DONE]."""
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return httpx2.Response(200, text=body, headers={"content-type": "text/event-stream"})


def chunk(
    delta: dict[str, Any] | None = None,
    *,
    finish_reason: str | None = None,
    usage: tuple[int, int] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "scripted-model",
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage is not None:
        body["usage"] = {
            "prompt_tokens": usage[0],
            "completion_tokens": usage[1],
            "total_tokens": sum(usage),
        }
    return body


@dataclass
class ScriptedServer:
    """Answers chat requests from a queue, lists models, embeds; records every request."""

    model_ids: list[str] = field(default_factory=lambda: ["scripted-model"])
    chat_replies: list[Reply] = field(default_factory=list[Reply])
    requests: list[httpx2.Request] = field(default_factory=list[httpx2.Request])

    def reply(self, body: dict[str, Any], status: int = 200, **headers: str) -> None:
        self.chat_replies.append(httpx2.Response(status, json=body, headers=headers))

    def reply_stream(self, chunks: list[dict[str, Any]]) -> None:
        self.chat_replies.append(sse(chunks))

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [
            json.loads(r.content) for r in self.requests if r.url.path.endswith("/chat/completions")
        ]

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/models"):
            data = [
                {"id": m, "object": "model", "created": 0, "owned_by": "me"} for m in self.model_ids
            ]
            return httpx2.Response(200, json={"object": "list", "data": data})
        if path.endswith("/embeddings"):
            texts: list[str] = json.loads(request.content)["input"]
            # Reversed order proves the client sorts by index.
            data = [
                {"object": "embedding", "index": i, "embedding": [float(len(t)), float(i)]}
                for i, t in reversed(list(enumerate(texts)))
            ]
            return httpx2.Response(
                200,
                json={
                    "object": "list",
                    "data": data,
                    "model": "e",
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                },
            )
        if not self.chat_replies:
            return httpx2.Response(500, json={"error": {"message": "script ran out of replies"}})
        reply = self.chat_replies.pop(0)
        return reply(request) if callable(reply) else reply
