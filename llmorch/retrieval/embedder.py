"""Dense embeddings over any OpenAI-compatible `/embeddings` endpoint: the one embedding path.

Local servers (llama.cpp, llama-cpp-python, Ollama) differ from hosted ones in ways that would
quietly spoil an index, so this client evens them out: vectors are L2-normalised for cosine
(mean-pooled models answer unnormalised), texts longer than `max_input_chars` are split and their
pieces' vectors averaged (servers cut or refuse long inputs), a batch refused or not answered in
time is halved and the smaller size kept, and at most `max_in_flight` requests wait on a server that serves one at a time."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from llmorch.errors import LlmError, LlmUnreachableError
from llmorch.logging import logger

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

    from llmorch.config import EmbeddingSettings

_NO_KEY = "not-needed"
"""Local servers take any key, but the SDK refuses to start without one."""

_REFUSED_BATCH = frozenset({400, 413, 422, 500})
"""Statuses with which servers turn down a batch that is too big for them (llama.cpp answers 500
"input is too large"); auth and unknown-model errors are not among them: halving cannot help."""


class DenseEmbedder(Protocol):
    @property
    def model(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One unit-length vector per text, in order."""
        ...

    async def dimension(self) -> int: ...


class OpenAIEmbedder:
    """Embeds texts `batch_size` at a time; the vector size is learned from the first answer."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        batch_size: int = 64,
        max_input_chars: int = 2000,
        max_in_flight: int = 2,
        max_retries: int = 2,
        timeout_s: float = 60.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self._base_url = base_url
        self._model = model
        self._api_key = api_key or _NO_KEY
        self.batch_size = batch_size
        self._max_input_chars = max_input_chars
        self._max_in_flight = max_in_flight
        self._max_retries = max_retries
        self._timeout_s = timeout_s
        self._http_client = http_client
        self._client: AsyncOpenAI | None = None
        self.size: int | None = None

    @classmethod
    def from_settings(
        cls, settings: EmbeddingSettings, *, http_client: httpx2.AsyncClient | None = None
    ) -> OpenAIEmbedder:
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        return cls(
            base_url=settings.base_url,
            model=settings.model,
            api_key=key,
            batch_size=settings.batch_size,
            max_input_chars=settings.max_input_chars,
            max_in_flight=settings.max_in_flight,
            timeout_s=settings.timeout_s,
            http_client=http_client,
        )

    @property
    def model(self) -> str:
        return self._model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        pieces: list[str] = []
        spans: list[tuple[int, int]] = []
        for text in texts:
            split = split_for_window(text, self._max_input_chars)
            spans.append((len(pieces), len(pieces) + len(split)))
            pieces += split
        vectors: list[list[float]] = [[] for _ in pieces]
        gate = asyncio.Semaphore(self._max_in_flight)

        async def one_batch(start: int, batch: list[str]) -> None:
            async with gate:
                vectors[start : start + len(batch)] = await self._embed_adapting(batch)

        size = self.batch_size
        tasks = [
            asyncio.ensure_future(one_batch(start, pieces[start : start + size]))
            for start in range(0, len(pieces), size)
        ]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            # The first failure is the one to report; the other requests are no longer wanted.
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return [normalised(mean(vectors[a:b])) for a, b in spans]

    async def dimension(self) -> int:
        """The vector size, asking the endpoint once if no batch has been embedded yet."""
        if self.size is None:
            await self._embed_batch(["dimension probe"])
        assert self.size is not None
        return self.size

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    async def _embed_adapting(self, batch: list[str]) -> list[list[float]]:
        """Embed a batch; when the server refuses it, embed its halves and remember the smaller size."""
        try:
            return await self._embed_batch(batch)
        except _Refused as refused:
            if len(batch) == 1:
                raise LlmError(
                    f"embedding endpoint {self._base_url} refused a single text "
                    f"({len(batch[0])} characters): {refused.reason}",
                    hint="lower embedding.max_input_chars to what the model's window holds",
                ) from refused
            half = len(batch) // 2
            if half < self.batch_size:
                logger.info(
                    "{} refused {} texts at once; sending {} per request from now on",
                    self._base_url,
                    len(batch),
                    half,
                )
                self.batch_size = half
            return await self._embed_adapting(batch[:half]) + await self._embed_adapting(
                batch[half:]
            )

    async def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        import openai

        client = self._openai()
        try:
            response = await client.embeddings.create(
                model=self._model, input=batch, encoding_format="float"
            )
        except openai.APITimeoutError as exc:
            # A one-request-at-a-time server on a busy CPU: a smaller batch answers in time.
            raise _Refused(f"no answer in {self._timeout_s:g} s") from exc
        except openai.APIConnectionError as exc:
            raise LlmUnreachableError(
                f"cannot reach the embedding endpoint {self._base_url}",
                hint="check embedding.base_url and that the server is running "
                "(an interrupted ingest resumes where it stopped)",
            ) from exc
        except openai.APIStatusError as exc:
            if exc.status_code in _REFUSED_BATCH:
                raise _Refused(f"HTTP {exc.status_code}") from exc
            raise LlmError(
                f"embedding endpoint {self._base_url} answered {exc.status_code} "
                f"for model {self._model!r}",
                hint="check embedding.model and embedding.api_key",
            ) from exc
        data = sorted(response.data, key=lambda d: d.index)
        vectors = [list(d.embedding) for d in data]
        self._check(batch, vectors)
        return vectors

    def _check(self, batch: list[str], vectors: list[list[float]]) -> None:
        if len(vectors) != len(batch):
            raise LlmError(
                f"embedding endpoint {self._base_url} returned {len(vectors)} vectors "
                f"for {len(batch)} texts"
            )
        sizes = {len(v) for v in vectors}
        if self.size is not None:
            sizes.add(self.size)
        if len(sizes) != 1:
            raise LlmError(
                f"embedding endpoint {self._base_url} returned vectors of mixed sizes {sorted(sizes)}"
            )
        self.size = sizes.pop()

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            from openai import AsyncOpenAI, DefaultAsyncHttpxClient

            from llmorch.lazy_tls import LazyTlsTransport

            self._client = AsyncOpenAI(
                base_url=self._base_url,
                api_key=self._api_key,
                max_retries=self._max_retries,
                timeout=self._timeout_s,
                http_client=self._http_client
                or DefaultAsyncHttpxClient(transport=LazyTlsTransport()),
            )
        return self._client


class _Refused(Exception):
    """The server turned a batch down in a way a smaller batch may fix."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def split_for_window(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut between words where there are any."""
    if len(text) <= limit:
        return [text]
    pieces: list[str] = []
    current = ""
    for word in text.split():
        for part in (word[i : i + limit] for i in range(0, len(word), limit)):
            joined = f"{current} {part}" if current else part
            if len(joined) > limit:
                pieces.append(current)
                joined = part
            current = joined
    if current:
        pieces.append(current)
    return pieces or [text[:limit]]


def mean(vectors: Sequence[list[float]]) -> list[float]:
    """The average direction of a text's pieces (each normalised first, so no piece outweighs)."""
    if len(vectors) == 1:
        return vectors[0]
    units = [normalised(v) for v in vectors]
    return [sum(column) / len(units) for column in zip(*units, strict=True)]


def normalised(vector: list[float]) -> list[float]:
    """Unit length, so cosine and dot product agree whatever pooling the server used."""
    norm = math.sqrt(sum(x * x for x in vector))
    return [x / norm for x in vector] if norm > 0 else vector
