"""The real KnowledgeSearch: turns a SearchRequest into BM25 (+ dense when configured) vectors, asks
the store, and returns citation-ready hits."""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from llmorch.errors import RetrievalError
from llmorch.logging import logger
from llmorch.retrieval import bm25
from llmorch.retrieval.backend import open_store
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.retrieval.links import LINK_FIELDS, LinkGraph, RelatedNote
from llmorch.retrieval.ranking import RankQuery, rank
from llmorch.retrieval.schema import CollectionMeta
from llmorch.retrieval.snippet import make_snippet
from llmorch.retrieval.store import VectorStore
from llmorch.runs.observer import RetrievalRecord, RetrievedHit, current_observer

_CHUNKS_PER_NEIGHBOUR = 3
"""Chunks asked per linked note: enough that one long note does not crowd out the others."""

_P = ParamSpec("_P")
_T = TypeVar("_T")

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.retrieval.embedder import DenseEmbedder, OpenAIEmbedder
    from llmorch.retrieval.reranker import Reranker

_WAITERS_CHECK_S = 0.05
"""How often a search checks whether another process waits for the index."""


def _holding_shard(
    method: Callable[Concatenate[KnowledgeBase, _P], _T],
) -> Callable[Concatenate[KnowledgeBase, _P], _T]:
    """Runs `method` with the shard to itself (see KnowledgeBase.__init__)."""

    @functools.wraps(method)
    def holding(self: KnowledgeBase, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        with self._shard_lock:  # pyright: ignore[reportPrivateUsage]
            return method(self, *args, **kwargs)

    return holding


class KnowledgeBase:
    """Open collections plus the embedder their dense vectors came from. It owns the stores it is
    given or opens; `close()` (or `await aclose()`, which also closes an embedder it made) when done."""

    def __init__(
        self,
        settings: Settings,
        store: VectorStore,
        *,
        embedder: DenseEmbedder | None = None,
        owned_embedder: OpenAIEmbedder | None = None,
        reranker: Reranker | None = None,
    ) -> None:
        self._settings = settings
        self._reranker = reranker
        self._stores: dict[str, tuple[VectorStore, CollectionMeta]] = {}
        self._default = store.collection
        self._embedder = embedder or owned_embedder
        self._owned_embedder = owned_embedder
        # The engine is synchronous: searches run in a worker thread, one at a time, so a
        # server's event loop never waits on it. The shard must not be used from two threads at
        # once, and a workflow may look up note roots or links from the loop's thread meanwhile.
        self._engine = asyncio.Lock()
        self._shard_lock = threading.RLock()
        self._waiters_checked_at = float("-inf")
        # Kept when the stores close for an ingest, so a search knows its vectors without a reopen.
        self._metas: dict[str, CollectionMeta] = {}
        self._graphs: dict[str, LinkGraph] = {}
        # Reading the manifest takes ~0.2 s on 20k chunks; the roots change only through an ingest,
        # which closes the index first.
        self._roots: list[Path] | None = None
        self._adopt(store)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        collection: str | None = None,
        store: VectorStore | None = None,
        embedder: DenseEmbedder | None = None,
    ) -> KnowledgeBase:
        """Open the configured collection; RetrievalError if it is missing, busy or mismatched."""
        owned = None
        if embedder is None and settings.embedding is not None:
            from llmorch.retrieval.embedder import OpenAIEmbedder

            owned = OpenAIEmbedder.from_settings(settings.embedding)
        reranker = None
        if settings.rerank is not None:
            from llmorch.retrieval.reranker import Reranker

            reranker = Reranker(settings.rerank)
        store = store or open_store(settings, collection, must_exist=True)
        try:
            return cls(settings, store, embedder=embedder, owned_embedder=owned, reranker=reranker)
        except BaseException:
            store.close()
            raise

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        started_at = time.perf_counter()
        name = request.collection or self._default
        meta = self._metas.get(name)
        if meta is None:
            async with self._engine:
                _, meta = await asyncio.to_thread(self._open_for_search, name)
        dense: list[float] | None = None
        if request.arms != "keyword" and meta.hybrid and self._embedder is not None:
            dense = (await self._embedder.embed([request.query]))[0]
            meta.check_embedder(name, self._embedder.model, len(dense))
        elif request.arms == "semantic":
            raise RetrievalError(
                f"collection {name!r} has no dense vectors to search by meaning",
                hint="configure `embedding` and rebuild with `llmorch ingest PATH --full`",
            )
        sparse = None if request.arms == "semantic" else bm25.embed_query(request.query)
        query = RankQuery(
            sparse=sparse,
            dense=dense,
            fields=sparse if meta.fields_vector else None,
            dense_fields=dense if meta.fields_vector else None,
            limit=max(request.limit, self._reranker.candidates)
            if self._reranker
            else request.limit,
            tags=request.tags,
            tag_mode=request.tag_mode,
            path_prefix=request.path_prefix,
            score_threshold=request.score_threshold,
        )
        async with self._engine:
            store, hits = await asyncio.to_thread(self._query, name, query)
        if self._reranker is not None:
            hits = await self._reranker.rerank(request.query, hits, request.limit)
        linked = request.linked_notes
        linked = self._settings.retrieval.linked_notes if linked is None else linked
        if linked and hits:
            async with self._engine:
                hits += await asyncio.to_thread(self._linked_hits, name, query, hits, linked)
        for hit in hits:
            hit.snippet = make_snippet(hit.text, request.query)
        elapsed_ms = (time.perf_counter() - started_at) * 1000
        logger.debug(
            "search {!r} in {} ({}): {} hits in {:.1f} ms",
            request.query,
            store.collection,
            request.arms if request.arms != "auto" else "hybrid" if dense is not None else "bm25",
            len(hits),
            elapsed_ms,
        )
        _report(request, store.collection, hits, elapsed_ms)
        return hits

    @_holding_shard
    def related(self, note: str, collection: str | None = None) -> list[RelatedNote]:
        """The notes `note` links to and the notes that link to it."""
        store, _ = self._store_for(collection)
        return LinkGraph(store.payloads(LINK_FIELDS)).related(note)

    @_holding_shard
    def indexed_roots(self) -> list[Path]:
        """The folders the default collection's notes were ingested from."""
        if self._roots is None:
            store, _ = self._store_for(None)
            self._roots = sorted({Path(root) for root, _ in store.manifest()})
        return self._roots

    @_holding_shard
    def close(self) -> None:
        for store, _ in self._stores.values():
            store.close()
        self._stores.clear()
        self._graphs.clear()  # reopened after an ingest, the links may have changed
        self._roots = None

    async def aclose(self) -> None:
        """Close the stores and the HTTP clients this object created (embedder, reranker)."""
        self.close()
        if self._owned_embedder is not None:
            await self._owned_embedder.aclose()
        if self._reranker is not None:
            await self._reranker.aclose()

    async def yield_to_waiting(self) -> None:
        """Close the index if another process waits for it; the next search reopens it."""
        async with self._engine:
            await asyncio.to_thread(self._close_if_waited)

    @_holding_shard
    def _linked_hits(
        self, collection: str, query: RankQuery, hits: list[SearchHit], count: int
    ) -> list[SearchHit]:
        """For up to `count` notes the hits link to or are linked from, the note's chunk that best
        matches the query: what the hits point at, found by the same query, as further context."""
        store, _ = self._open_for_search(collection)
        graph = self._graphs.get(collection)
        if graph is None:
            graph = self._graphs[collection] = LinkGraph(store.payloads(LINK_FIELDS))
        seen = {hit.path for hit in hits}
        neighbours: list[str] = []
        for hit in hits:
            for note in graph.related_to_path(hit.path):
                if note.path not in seen:
                    seen.add(note.path)
                    neighbours.append(note.path)
        if not neighbours:
            return []
        found = rank(
            store, replace(query, paths=neighbours, limit=len(neighbours) * _CHUNKS_PER_NEIGHBOUR)
        )
        best: dict[str, SearchHit] = {}
        for chunk in found:  # best first: the first chunk of each note is its best
            best.setdefault(chunk.path, chunk)
        return list(best.values())[:count]

    @_holding_shard
    def _query(self, collection: str, query: RankQuery) -> tuple[VectorStore, list[SearchHit]]:
        store, _ = self._open_for_search(collection)
        return store, rank(store, query)

    @_holding_shard
    def _open_for_search(self, collection: str | None) -> tuple[VectorStore, CollectionMeta]:
        """The collection, reopened if it was closed for a waiting process: an ingest run while
        `serve` answers gets the index, and the next search sees the new notes."""
        self._close_if_waited()
        return self._store_for(collection)

    @_holding_shard
    def _close_if_waited(self) -> None:
        # The probe takes a file lock (a few syscalls and lock-file bookkeeping); once per
        # interval is soon enough for a waiting ingest, and a busy server does not pay it per search.
        now = time.monotonic()
        if now - self._waiters_checked_at < _WAITERS_CHECK_S:
            return
        self._waiters_checked_at = now
        if any(store.others_waiting() for store, _ in self._stores.values()):
            logger.info("another process is waiting for the index; closing it until it is done")
            self.close()

    def _store_for(self, collection: str | None) -> tuple[VectorStore, CollectionMeta]:
        name = collection or self._default
        if name not in self._stores:
            store = open_store(self._settings, name, must_exist=True)
            try:
                self._adopt(store)
            except BaseException:
                store.close()
                raise
        return self._stores[name]

    def _adopt(self, store: VectorStore) -> None:
        meta = store.meta()
        model = self._embedder.model if self._embedder is not None else None
        if meta.hybrid and model is not None:
            meta.check_embedder(store.collection, model, None)
        elif meta.hybrid or model is not None:
            _warn_bm25_only(store.collection, meta)
        self._stores[store.collection] = (store, meta)
        self._metas[store.collection] = meta


def _warn_bm25_only(collection: str, meta: CollectionMeta) -> None:
    """Searching still works on BM25 alone, but the user set up (or built) hybrid search and
    must hear that it is not in effect, as ingest refuses the same mismatch."""
    if meta.hybrid:
        why = (
            f"it holds dense vectors from {meta.embedding_model!r} but no `embedding` section is "
            "configured"
        )
    else:
        why = "it was built without dense vectors (re-run `llmorch ingest PATH --full`)"
    logger.warning("collection {!r}: searching with BM25 only, not hybrid: {}", collection, why)


def _report(request: SearchRequest, collection: str, hits: list[SearchHit], ms: float) -> None:
    """Tell the run being recorded which passages this search returned."""
    observer = current_observer()
    if observer is None:
        return
    filters = request.model_dump(exclude={"query"}, exclude_defaults=True)
    observer.retrieval(
        RetrievalRecord(
            query=request.query,
            filters={**filters, "collection": collection},
            hits=[RetrievedHit(h.path, h.heading, h.chunk_index, h.score) for h in hits],
            duration_ms=ms,
        )
    )
