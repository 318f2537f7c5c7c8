"""A stand-in rerank endpoint on 127.0.0.1 speaking the Jina/Cohere/llama.cpp wire shape.

No reranker runs here: llama-cpp-python's server has no /v1/rerank. Its score is the share of the
query's words a document holds, so a test knows which order is right and can see it applied.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from embedding_server import json_server

_WORD = re.compile(r"\w+")


def overlap_score(query: str, document: str) -> float:
    words = set(_WORD.findall(query.lower()))
    return len(words & set(_WORD.findall(document.lower()))) / max(len(words), 1)


@dataclass
class RerankServer:
    """What the stand-in was sent; `bare_list` answers as text-embeddings-inference does and
    `fail_with` answers every request with that status."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    bare_list: bool = False
    fail_with: int | None = None

    def answer(self, path: str, body: dict[str, Any]) -> tuple[int, object]:
        self.requests.append(body)
        if path != "/v1/rerank" or self.fail_with is not None:
            return self.fail_with or 404, {"error": "no such route"}
        scored = [
            {"index": i, "relevance_score": overlap_score(body["query"], doc)}
            for i, doc in enumerate(body["documents"])
        ]
        scored.sort(key=lambda r: r["relevance_score"], reverse=True)
        top = scored[: body.get("top_n", len(scored))]
        if self.bare_list:
            return 200, [{"index": r["index"], "score": r["relevance_score"]} for r in top]
        return 200, {"model": body.get("model"), "results": top}


@pytest.fixture
def rerank_server() -> Iterator[RerankServer]:
    state = RerankServer()
    with json_server(state.answer) as base_url:
        state.base_url = base_url
        yield state
