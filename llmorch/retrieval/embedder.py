"""Dense embeddings over any OpenAI-compatible `/embeddings` endpoint, batched, with the SDK's retries.

Kept apart from llmorch.llm on purpose: retrieval needs only this one call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from llmorch.errors import LlmError, LlmUnreachableError

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

    from llmorch.config import EmbeddingSettings

_NO_KEY = "not-needed"
"""Local servers take any key, but the SDK refuses to start without one."""


class DenseEmbedder(Protocol):
    @property
    def model(self) -> str: ...

    async def embed(self, texts: Sequence[str]) -> list[list[float]]: ...

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
        max_retries: int = 2,
        timeout_s: float = 60.0,
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        self._base_url = base_url
        self._model = model
        self._api_key = api_key or _NO_KEY
        self._batch_size = batch_size
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
            http_client=http_client,
        )

    @property
    def model(self) -> str:
        return self._model

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors += await self._embed_batch(list(texts[start : start + self._batch_size]))
        return vectors

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

    async def _embed_batch(self, batch: list[str]) -> list[list[float]]:
        import openai

        client = self._openai()
        try:
            response = await client.embeddings.create(
                model=self._model, input=batch, encoding_format="float"
            )
        except openai.APIConnectionError as exc:
            raise LlmUnreachableError(
                f"cannot reach the embedding endpoint {self._base_url}",
                hint="check embedding.base_url and that the server is running",
            ) from exc
        except openai.APIStatusError as exc:
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
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                base_url=self._base_url,
                api_key=self._api_key,
                max_retries=self._max_retries,
                timeout=self._timeout_s,
                http_client=self._http_client,
            )
        return self._client
