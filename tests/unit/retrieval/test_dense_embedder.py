"""The /embeddings client against a scripted transport: batching, retries, and failures a user can act on."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx2
import pytest

from llmorch.errors import LlmError, LlmUnreachableError
from llmorch.retrieval.embedder import OpenAIEmbedder

Handler = Callable[[httpx2.Request], httpx2.Response]


def embedding_answer(texts: list[str], dims: int = 3) -> httpx2.Response:
    # Answer out of order: the client must put vectors back in input order by `index`.
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(t))] + [0.5] * (dims - 1)}
        for i, t in reversed(list(enumerate(texts)))
    ]
    return httpx2.Response(
        200,
        json={
            "object": "list",
            "model": "m",
            "data": data,
            "usage": {"prompt_tokens": 0, "total_tokens": 0},
        },
    )


def embedder(handler: Handler, *, batch_size: int = 2, max_retries: int = 2) -> OpenAIEmbedder:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return OpenAIEmbedder(
        base_url="http://embed.test/v1",
        model="m",
        batch_size=batch_size,
        max_retries=max_retries,
        http_client=client,
    )


async def test_texts_are_sent_in_batches_and_vectors_come_back_in_order() -> None:
    batches: list[list[str]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        assert request.url.path == "/v1/embeddings"
        batches.append(body["input"])
        return embedding_answer(body["input"])

    emb = embedder(handler, batch_size=2)
    vectors = await emb.embed(["a", "bb", "ccc", "dddd", "eeeee"])
    assert batches == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    assert [v[0] for v in vectors] == [1, 2, 3, 4, 5]
    assert await emb.dimension() == 3
    await emb.aclose()


async def test_a_transient_server_error_is_retried() -> None:
    calls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            return httpx2.Response(
                503, json={"error": {"message": "loading model"}}, headers={"retry-after-ms": "1"}
            )
        return embedding_answer(json.loads(request.content)["input"])

    assert len(await embedder(handler).embed(["x"])) == 1
    assert calls == 2


async def test_an_unreachable_endpoint_is_an_llm_unreachable_error() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    with pytest.raises(LlmUnreachableError, match="cannot reach the embedding endpoint"):
        await embedder(handler, max_retries=0).embed(["x"])


async def test_a_rejected_request_names_the_status_and_model() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(404, json={"error": {"message": "model not found"}})

    with pytest.raises(LlmError, match="answered 404 for model 'm'"):
        await embedder(handler).embed(["x"])


async def test_vectors_of_changing_size_are_refused() -> None:
    sizes = iter([3, 5])

    def handler(request: httpx2.Request) -> httpx2.Response:
        return embedding_answer(json.loads(request.content)["input"], dims=next(sizes))

    emb = embedder(handler, batch_size=1)
    with pytest.raises(LlmError, match="mixed sizes"):
        await emb.embed(["a", "b"])
