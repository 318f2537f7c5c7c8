"""A stand-in for Anthropic's Messages API on 127.0.0.1, speaking the documented wire format.

No network here, so this server answers POST /v1/messages with scripted replies: message JSON,
the SSE event sequence (message_start, content_block_start/delta/stop, message_delta,
message_stop, ping, error), and error bodies ({"type": "error", "error": {...}}). The real
`anthropic` SDK talks to it over real HTTP. Imported by the llm tests (pytest puts this folder on
sys.path).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "claude-stand-in"


@dataclass
class Reply:
    status: int = 200
    body: dict[str, Any] | None = None
    events: list[dict[str, Any]] | None = None
    headers: dict[str, str] = field(default_factory=dict[str, str])


def message(
    *blocks: dict[str, Any], stop_reason: str = "end_turn", usage: tuple[int, int] = (12, 7)
) -> Reply:
    """A whole (non-streamed) Message."""
    return Reply(
        body={
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": list(blocks),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }
    )


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def thinking(value: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": value, "signature": "sig-abc"}


def tool_use(name: str, arguments: dict[str, Any], call_id: str = "toolu_01") -> dict[str, Any]:
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def streamed(*blocks: dict[str, Any], stop_reason: str = "end_turn", pieces: int = 3) -> Reply:
    """The SSE event sequence for a message with these blocks, each block's content in pieces."""
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_02",
                "type": "message",
                "role": "assistant",
                "model": MODEL,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 20, "output_tokens": 1},
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(blocks):
        events += list(_block_events(index, block, pieces))
    events += [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": 15},
        },
        {"type": "message_stop"},
    ]
    return Reply(events=events)


def _block_events(index: int, block: dict[str, Any], pieces: int) -> Iterator[dict[str, Any]]:
    kind = block["type"]
    if kind == "text":
        start, key, delta_type, content = (
            {"type": "text", "text": ""},
            "text",
            "text_delta",
            block["text"],
        )
    elif kind == "thinking":
        start, key, delta_type, content = (
            {"type": "thinking", "thinking": "", "signature": ""},
            "thinking",
            "thinking_delta",
            block["thinking"],
        )
    else:
        start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        key, delta_type, content = "partial_json", "input_json_delta", json.dumps(block["input"])
    yield {"type": "content_block_start", "index": index, "content_block": start}
    size = max(1, -(-len(content) // pieces))
    for at in range(0, len(content), size):
        piece = content[at : at + size]
        yield {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": delta_type, key: piece},
        }
    if kind == "thinking":
        yield {
            "type": "content_block_delta",
            "index": index,
            "delta": {"type": "signature_delta", "signature": "sig-abc"},
        }
    yield {"type": "content_block_stop", "index": index}


def error(status: int, kind: str, text_: str, **headers: str) -> Reply:
    """An error answer with the documented body: {"type": "error", "error": {"type", "message"}}."""
    return Reply(
        status=status,
        body={"type": "error", "error": {"type": kind, "message": text_}, "request_id": "req_01"},
        headers=headers,
    )


def error_event(kind: str, text_: str) -> dict[str, Any]:
    """An `error` event inside an SSE stream (overloaded mid-answer)."""
    return {"type": "error", "error": {"type": kind, "message": text_}}


class MessagesServer:
    """Serves scripted replies in order and keeps each request's JSON body and headers."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                server.requests.append(json.loads(self.rfile.read(length) or b"{}"))
                server.headers.append({k.lower(): v for k, v in self.headers.items()})
                server._answer(self, self.path)

            def log_message(self, format: str, *args: Any) -> None:
                del format, args  # keep test output clean

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def reply(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, path: str) -> None:
        if path != "/v1/messages" or not self.replies:
            reply = error(404, "not_found_error", f"nothing scripted for {path}")
        else:
            reply = self.replies.pop(0)
        handler.send_response(reply.status)
        for name, value in {"request-id": "req_01", **reply.headers}.items():
            handler.send_header(name, value)
        if reply.events is None:
            payload = json.dumps(reply.body).encode()
            handler.send_header("content-type", "application/json")
            handler.send_header("content-length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
            return
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.end_headers()
        for event in reply.events:
            handler.wfile.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
            handler.wfile.flush()
        handler.close_connection = True
