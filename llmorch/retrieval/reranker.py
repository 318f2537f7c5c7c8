"""Reordering the first ranking's best hits with a cross-encoder behind a rerank endpoint: the
llama.cpp server's `/v1/rerank` and the Jina/Cohere request shape. Used only when `rerank` is set."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from llmorch.errors import RetrievalError
from llmorch.retrieval.hits import SearchHit

if TYPE_CHECKING:
    import httpx2

    from llmorch.config import RerankSettings

_HINT = "start the rerank server, or remove the `rerank` section to rank without it"


class Reranker:
    """One rerank endpoint; `rerank` orders hits by its relevance scores."""

    def __init__(
        self, settings: RerankSettings, *, http_client: httpx2.AsyncClient | None = None
    ) -> None:
        import httpx2

        from llmorch.lazy_tls import LazyTlsTransport

        self.url = settings.base_url.rstrip("/") + "/rerank"
        self.candidates = settings.candidates
        self._model = settings.model
        headers: dict[str, str] = {}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._http = http_client or httpx2.AsyncClient(
            timeout=settings.timeout_s, transport=LazyTlsTransport()
        )
        self._headers = headers

    async def rerank(self, query: str, hits: Sequence[SearchHit], limit: int) -> list[SearchHit]:
        """The `limit` best of `hits` by the endpoint's scores, each carrying its new score."""
        if not hits:
            return []
        body: dict[str, Any] = {
            "query": query,
            "documents": [_document(hit) for hit in hits],
            "top_n": min(limit, len(hits)),
        }
        if self._model is not None:
            body["model"] = self._model
        scores = _scores(self.url, await self._post(body), len(hits))
        ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)[:limit]
        return [hits[index].model_copy(update={"score": score}) for index, score in ranked]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _post(self, body: dict[str, Any]) -> object:
        import httpx2

        try:
            response = await self._http.post(self.url, json=body, headers=self._headers)
        except httpx2.TimeoutException as exc:
            raise RetrievalError(
                f"the rerank endpoint {self.url} did not answer in time", hint=_HINT
            ) from exc
        except httpx2.TransportError as exc:
            raise RetrievalError(
                f"the rerank endpoint {self.url} cannot be reached ({type(exc).__name__})",
                hint=_HINT,
            ) from exc
        if response.status_code >= 400:
            detail = " ".join(response.text.split())[:200]
            raise RetrievalError(
                f"the rerank endpoint {self.url} answered {response.status_code}: {detail}",
                hint="check rerank.base_url and rerank.model",
            )
        try:
            return cast(object, response.json())
        except ValueError as exc:
            raise _not_a_result(self.url) from exc


def _document(hit: SearchHit) -> str:
    """What the cross-encoder reads: the note's title and heading give the chunk its subject."""
    heading = f" > {hit.heading}" if hit.heading else ""
    return f"{hit.title}{heading}\n{hit.text}"


def _scores(url: str, body: object, count: int) -> dict[int, float]:
    """Index → score from `{"results": [{"index", "relevance_score"}]}` (Jina, Cohere, llama.cpp)
    or a bare list of `{"index", "score"}` (Hugging Face's text-embeddings-inference)."""
    results = cast("dict[str, object]", body).get("results") if isinstance(body, dict) else body
    if not isinstance(results, list):
        raise _not_a_result(url)
    scores: dict[int, float] = {}
    for item in cast("list[object]", results):
        entry = cast("dict[str, object]", item) if isinstance(item, dict) else {}
        index = entry.get("index")
        score = entry.get("relevance_score", entry.get("score"))
        if not isinstance(index, int) or not 0 <= index < count:
            raise _not_a_result(url)
        if not isinstance(score, int | float):
            raise _not_a_result(url)
        scores[index] = float(score)
    return scores


def _not_a_result(url: str) -> RetrievalError:
    return RetrievalError(
        f"the rerank endpoint {url} answered something that is not a rerank result",
        hint="rerank.base_url must point at a /rerank API (llama.cpp, Jina, Cohere, TEI)",
    )
