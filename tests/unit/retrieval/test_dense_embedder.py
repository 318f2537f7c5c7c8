"""The /embeddings client against a scripted transport: batching, retries, and failures a user can act on."""

from __future__ import annotations

import asyncio
import json
import math
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


def embedder(
    handler: Handler,
    *,
    batch_size: int = 2,
    max_retries: int = 2,
    max_input_chars: int = 2000,
    max_in_flight: int = 2,
) -> OpenAIEmbedder:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    return OpenAIEmbedder(
        base_url="http://embed.test/v1",
        model="m",
        batch_size=batch_size,
        max_retries=max_retries,
        max_input_chars=max_input_chars,
        max_in_flight=max_in_flight,
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
    assert sorted(batches) == [["a", "bb"], ["ccc", "dddd"], ["eeeee"]]
    # Each answer is [len, 0.5, 0.5]: normalised, the first component still grows with len.
    firsts = [v[0] for v in vectors]
    assert firsts == sorted(firsts) and len(set(firsts)) == 5
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


async def test_vectors_come_back_unit_length_whatever_the_server_pooled() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return embedding_answer(json.loads(request.content)["input"], dims=4)

    [vector] = await embedder(handler).embed(["mean-pooled servers answer long vectors"])
    assert math.isclose(math.fsum(x * x for x in vector), 1.0)


async def test_a_text_longer_than_the_window_is_embedded_in_pieces_and_averaged() -> None:
    sent: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        texts = json.loads(request.content)["input"]
        sent.extend(texts)
        return embedding_answer(texts)

    long_text = " ".join(["word"] * 100)  # 499 characters
    emb = embedder(handler, max_input_chars=120, max_in_flight=1)
    vectors = await emb.embed([long_text, "short"])
    assert len(vectors) == 2
    assert all(len(piece) <= 120 for piece in sent)
    assert " ".join(sent[:-1]) == long_text and sent[-1] == "short"


async def test_a_refused_batch_is_halved_and_the_smaller_size_kept() -> None:
    sizes: list[int] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        texts = json.loads(request.content)["input"]
        sizes.append(len(texts))
        if len(texts) > 2:  # what llama.cpp answers when a batch exceeds its context
            return httpx2.Response(500, json={"error": {"message": "input is too large"}})
        return embedding_answer(texts)

    emb = embedder(handler, batch_size=8, max_retries=0, max_in_flight=1)
    vectors = await emb.embed([f"text {i}" for i in range(8)])
    assert len(vectors) == 8
    assert emb.batch_size == 2
    sizes.clear()
    await emb.embed([f"again {i}" for i in range(6)])
    assert sizes == [2, 2, 2]


async def test_a_single_refused_text_names_the_window_setting() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(500, json={"error": {"message": "input is too large"}})

    with pytest.raises(LlmError, match="refused a single text") as caught:
        await embedder(handler, max_retries=0).embed(["x" * 50])
    assert "max_input_chars" in (caught.value.hint or "")


async def test_no_more_than_max_in_flight_requests_wait_on_the_server() -> None:
    in_flight = peak = 0

    async def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return embedding_answer(json.loads(request.content)["input"])

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handler))
    emb = OpenAIEmbedder(
        base_url="http://embed.test/v1",
        model="m",
        batch_size=1,
        max_in_flight=3,
        http_client=client,
    )
    assert len(await emb.embed([str(i) for i in range(12)])) == 12
    assert peak == 3
