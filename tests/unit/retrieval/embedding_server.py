"""Real parts for retrieval tests: a tiny OpenAI-compatible /embeddings server on 127.0.0.1 whose
vectors are a hashed bag of words (deterministic, and texts sharing words point the same way)."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

DIMS = 64


def bag_of_words_vector(text: str, dims: int = DIMS) -> list[float]:
    vec = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
        vec[int.from_bytes(digest, "little") % dims] += 1.0
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


@dataclass
class EmbeddingServer:
    base_url: str
    model: str = "bow-64"
    batches: list[list[str]] = field(default_factory=list[list[str]])


JsonRoute = Callable[[str, dict[str, Any]], tuple[int, object]]
"""(path, JSON body) -> (status, JSON answer): what a stand-in server does with one POST."""


@contextmanager
def json_server(route: JsonRoute) -> Iterator[str]:
    """A server on 127.0.0.1 answering JSON POSTs through `route`; yields its /v1 base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body: dict[str, Any] = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status, answer = route(self.path, body)
            raw = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def embedding_server() -> Iterator[EmbeddingServer]:
    state = EmbeddingServer(base_url="")

    def embed(path: str, body: dict[str, Any]) -> tuple[int, object]:
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        state.batches.append(texts)
        return 200, {
            "object": "list",
            "model": body["model"],
            "data": [
                {"object": "embedding", "index": i, "embedding": bag_of_words_vector(t)}
                for i, t in enumerate(texts)
            ],
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        }

    with json_server(embed) as base_url:
        state.base_url = base_url
        yield state
