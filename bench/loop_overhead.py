"""What llmorch adds per model round trip, next to the raw `openai` SDK on the same instant server.

Starts a tiny OpenAI-compatible server on 127.0.0.1 (stdlib, in a thread) that answers at once,
then times, interleaved: the raw SDK call, LlmClient.complete, a one-turn ToolLoop run, and a
two-turn ToolLoop run with one tool call. Goal: llmorch adds under 2 ms per round trip at p50.

    .venv/bin/python bench/loop_overhead.py [--rounds 400]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import threading
import time
from collections.abc import Awaitable, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from llmorch.config import LlmSettings
from llmorch.llm.client import LlmClient
from llmorch.llm.loop import ToolLoop
from llmorch.llm.messages import SystemMessage, UserMessage
from llmorch.logging import configure_logging
from llmorch.tools.base import ToolRegistry, tool

MODEL = "bench-model"
MESSAGES = [
    SystemMessage(content="You answer from the user's notes."),
    UserMessage(content="What did I decide about the home server?"),
]


def _completion(message: dict[str, Any]) -> bytes:
    body = {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1700000000,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 40, "completion_tokens": 12, "total_tokens": 52},
    }
    return json.dumps(body).encode()


ANSWER = _completion({"role": "assistant", "content": "You chose a quiet N100 box for the lab."})
CALL = _completion(
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"query": "home server"}'},
            }
        ],
    }
)


class InstantModelHandler(BaseHTTPRequestHandler):
    """Answers at once: a tool call when the conversation has no tool result yet, else text."""

    protocol_version = "HTTP/1.1"  # keep-alive, like a real server
    # Without TCP_NODELAY, headers and body leave as two segments and Nagle's algorithm meets the
    # client's delayed ACK: every request would wait ~40 ms, hiding what is being measured.
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        request = json.loads(self.rfile.read(int(self.headers["content-length"])))
        wants_call = request.get("tools") and request["messages"][-1]["role"] == "user"
        wants_call = wants_call and request["messages"][-1]["content"].startswith("[tool]")
        body = CALL if wants_call else ANSWER
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@tool
async def lookup(query: str) -> str:
    """Look something up."""
    return f"notes about {query}"


async def _time(fn: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await fn()
    return (time.perf_counter() - started) * 1000.0


async def main(rounds: int) -> None:
    import httpx2
    import openai

    server = ThreadingHTTPServer(("127.0.0.1", 0), InstantModelHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"

    raw = openai.AsyncOpenAI(
        api_key="x", base_url=base_url, max_retries=0, http_client=httpx2.AsyncClient()
    )
    client = LlmClient(LlmSettings(base_url=base_url, model=MODEL, max_retries=0))
    registry = ToolRegistry([lookup])
    loop = ToolLoop(client, registry, max_iterations=4)
    wire_messages = [m.to_api() for m in MESSAGES]
    wire_tools = [d.to_api() for d in registry.definitions()]
    tool_question = [*MESSAGES[:1], UserMessage(content="[tool] look up the home server")]

    async def raw_call() -> object:
        return await raw.chat.completions.create(
            model=MODEL, messages=wire_messages, tools=wire_tools, temperature=0.2
        )

    async def two_raw_calls() -> object:
        await raw_call()
        return await raw_call()

    async def loop_with_tool() -> None:
        result = await loop.run(tool_question)
        assert len(result.tool_calls) == 1 and result.iterations == 2, result

    cases: dict[str, Callable[[], Awaitable[object]]] = {
        "raw openai SDK (1 round trip)": raw_call,
        "LlmClient.complete (1)": lambda: client.complete(MESSAGES, tools=registry.definitions()),
        "ToolLoop.run, plain answer (1)": lambda: loop.run(MESSAGES),
        "raw openai SDK x2 (2)": two_raw_calls,
        "ToolLoop.run, one tool call (2)": loop_with_tool,
    }
    for fn in cases.values():  # warm up connections, imports and caches
        for _ in range(20):
            await fn()
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):  # interleaved, so drift in machine load hits every case alike
        for name, fn in cases.items():
            timings[name].append(await _time(fn))

    def p(name: str, q: int) -> float:
        return statistics.quantiles(timings[name], n=100)[q - 1]

    print(f"{rounds} rounds against an instant server at {base_url}\n")
    print(f"{'case':36} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8}")
    for name in cases:
        print(f"{name:36} {p(name, 50):8.3f} {p(name, 90):8.3f} {p(name, 99):8.3f}")
    one = p("ToolLoop.run, plain answer (1)", 50) - p("raw openai SDK (1 round trip)", 50)
    client_only = p("LlmClient.complete (1)", 50) - p("raw openai SDK (1 round trip)", 50)
    two = (p("ToolLoop.run, one tool call (2)", 50) - p("raw openai SDK x2 (2)", 50)) / 2
    print()
    print(f"added by LlmClient per round trip (p50):        {client_only:+.3f} ms")
    print(f"added by ToolLoop per round trip, no tools:     {one:+.3f} ms")
    print(f"added by ToolLoop per round trip, with a tool:  {two:+.3f} ms")
    ok = max(one, two) < 2.0
    print(f"goal < 2 ms per round trip at p50: {'met' if ok else 'NOT met'}")
    await client.aclose()
    await raw.close()
    server.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    configure_logging(level="WARNING")
    asyncio.run(main(parser.parse_args().rounds))
