"""A tiny OpenAI-compatible server on 127.0.0.1 that plays back scripted replies.

It lets CLI tests run the real client path (HTTP, SSE streaming, tool calls) without a model.
Used in-process by the CLI tests and as a separate process by the chat pseudo-terminal test:

    python tests/unit/cli/scripted_llm.py --delay 0.3    # prints "PORT <n>", serves until killed
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "scripted-model"


@dataclass
class Reply:
    """One assistant turn: text, or tool calls as (name, arguments) pairs, or an HTTP error."""

    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error_status: int | None = None


Script = Callable[[dict[str, Any]], Reply]
"""Chooses the reply from the request body, so a test can answer from what it was sent."""


def echo_turns(body: dict[str, Any]) -> Reply:
    """Default script: says which turn this is and cites passage [1], so history and citations show."""
    users = [m for m in body["messages"] if m["role"] == "user"]
    last = str(users[-1]["content"]).strip().splitlines()[-1] if users else ""
    return Reply(text=f"Turn {len(users)}: you asked about {last[:60]}. See [1] for details.")


class ScriptedLlm:
    """Serves scripted replies; `replies` are used in order, then `script` answers the rest."""

    def __init__(
        self,
        replies: list[Reply] | None = None,
        *,
        script: Script = echo_turns,
        chunk_delay: float = 0.0,
        port: int = 0,
    ) -> None:
        self.replies = list(replies or [])
        self.script = script
        self.chunk_delay = chunk_delay
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ScriptedLlm:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ScriptedLlm:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def next_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self.replies:
                return self.replies.pop(0)
        return self.script(body)


def _handler_for(llm: ScriptedLlm) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            return  # keep test output clean

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._json({"object": "list", "data": [{"id": MODEL, "object": "model"}]})
            else:
                self._json({"error": {"message": "not found"}}, status=404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if not self.path.endswith("/chat/completions"):
                self._json({"error": {"message": "not found"}}, status=404)
                return
            reply = llm.next_reply(body)
            if reply.error_status is not None:
                message = reply.text or "scripted failure"
                self._json({"error": {"message": message}}, status=reply.error_status)
            elif body.get("stream"):
                self._stream(reply)
            else:
                self._json(_completion(reply))

        def _json(self, payload: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _stream(self, reply: Reply) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            try:
                for chunk in _chunks(reply):
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                    if llm.chunk_delay:
                        time.sleep(llm.chunk_delay)
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client cancelled the answer: exactly what some tests do
            self.close_connection = True

    return Handler


def _tool_calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(args)},
        }
        for i, (name, args) in enumerate(reply.tool_calls)
    ]


_USAGE = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}


def _completion(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.tool_calls:
        message["tool_calls"] = _tool_calls(reply)
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.tool_calls else "stop",
            }
        ],
        "usage": _USAGE,
    }


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def _chunks(reply: Reply) -> Iterator[dict[str, Any]]:
    yield _chunk({"role": "assistant", "content": ""})
    words = reply.text.split(" ")
    for i, word in enumerate(words):
        if word or i:
            yield _chunk({"content": word if i == 0 else " " + word})
    for i, call in enumerate(_tool_calls(reply)):
        yield _chunk({"tool_calls": [{"index": i, **call}]})
    yield _chunk({}, "tool_calls" if reply.tool_calls else "stop")
    yield {**_chunk({}), "choices": [], "usage": _USAGE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds between streamed words")
    args = parser.parse_args()
    llm = ScriptedLlm(chunk_delay=args.delay, port=args.port).start()
    print(f"PORT {llm.port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        llm.stop()


if __name__ == "__main__":
    main()
