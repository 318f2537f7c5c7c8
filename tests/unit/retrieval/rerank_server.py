"""A stand-in rerank endpoint on 127.0.0.1 speaking the Jina/Cohere/llama.cpp wire shape.

No reranker runs here: llama-cpp-python's server has no /v1/rerank. Its score is the share of the
query's words a document holds, so a test knows which order is right and can see it applied.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

_WORD = re.compile(r"\w+")


def overlap_score(query: str, document: str) -> float:
    words = set(_WORD.findall(query.lower()))
    return len(words & set(_WORD.findall(document.lower()))) / max(len(words), 1)


class RerankServer:
    """Answers POST /v1/rerank; `bare_list` answers as text-embeddings-inference does."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.bare_list = False
        self.fail_with: int | None = None
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body: dict[str, Any] = json.loads(
                    self.rfile.read(int(self.headers["Content-Length"]))
                )
                server.requests.append(body)
                if self.path != "/v1/rerank" or server.fail_with is not None:
                    self._send(server.fail_with or 404, {"error": "no such route"})
                    return
                scored = [
                    {"index": i, "relevance_score": overlap_score(body["query"], doc)}
                    for i, doc in enumerate(body["documents"])
                ]
                scored.sort(key=lambda r: r["relevance_score"], reverse=True)
                top = scored[: body.get("top_n", len(scored))]
                if server.bare_list:
                    self._send(
                        200, [{"index": r["index"], "score": r["relevance_score"]} for r in top]
                    )
                else:
                    self._send(200, {"model": body.get("model"), "results": top})

            def _send(self, status: int, payload: object) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._http.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> RerankServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.shutdown()
        self._http.server_close()


@pytest.fixture
def rerank_server() -> Iterator[RerankServer]:
    with RerankServer() as server:
        yield server
