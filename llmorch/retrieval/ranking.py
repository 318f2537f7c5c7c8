"""How a search ranks chunks: body BM25 raised by the BM25 of each chunk's note's fields (title,
aliases, tags, path, headings), then fused with the dense arm by weighted reciprocal rank fusion.
Done here over each arm's list, so every store ranks alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from llmorch.retrieval.hits import SearchHit
from llmorch.retrieval.schema import (
    ARM_WEIGHTS,
    DENSE_VECTOR,
    FIELDS_BOOST,
    FIELDS_VECTOR,
    RRF_K,
    SPARSE_VECTOR,
    SparseVec,
    StoreQuery,
)
from llmorch.retrieval.store import VectorStore

_ChunkKey = tuple[str, str, int]


@dataclass(frozen=True)
class RankQuery:
    """A search turned into vectors: the arms to ask and the filters they share."""

    sparse: SparseVec | None
    """Body BM25; None asks the dense arm alone (which must then be set)."""
    dense: list[float] | None = None
    fields: SparseVec | None = None
    """The query's words against the notes' fields; None for an index without them."""
    limit: int = 6
    tags: list[str] = field(default_factory=list[str])
    tag_mode: Literal["any", "all"] = "any"
    path_prefix: str | None = None
    score_threshold: float | None = None
    paths: list[str] = field(default_factory=list[str])
    """Only chunks of these notes (paths in the vault), when not empty."""

    def arm(self, using: str, vector: SparseVec | list[float]) -> StoreQuery:
        return StoreQuery(
            using=using,
            vector=vector,
            limit=self._pool(),
            tags=self.tags,
            tag_mode=self.tag_mode,
            path_prefix=self.path_prefix,
            paths=self.paths,
        )

    def _pool(self) -> int:
        # Each arm fetches more than the final limit when boosting or fusion may reorder it.
        if self.sparse is not None and (self.fields is not None or self.dense is not None):
            return max(self.limit * 4, 20)
        return self.limit


def rank(store: VectorStore, query: RankQuery) -> list[SearchHit]:
    """The best `query.limit` chunks, best first, scored by the arms the query asks."""
    lists: list[tuple[list[SearchHit], float]] = []
    if query.sparse is not None:
        keyword = store.query(query.arm(SPARSE_VECTOR, query.sparse))
        if query.fields is not None:
            keyword = with_fields(keyword, store.query(query.arm(FIELDS_VECTOR, query.fields)))
        lists.append((keyword, ARM_WEIGHTS[SPARSE_VECTOR]))
    if query.dense is not None:
        dense = store.query(query.arm(DENSE_VECTOR, query.dense))
        lists.append((dense, ARM_WEIGHTS[DENSE_VECTOR]))
    hits = lists[0][0] if len(lists) == 1 else fuse(lists)
    if query.score_threshold is not None:
        hits = [h for h in hits if h.score >= query.score_threshold]
    return hits[: query.limit]


def with_fields(body: Sequence[SearchHit], notes: Sequence[SearchHit]) -> list[SearchHit]:
    """Each chunk's body score plus FIELDS_BOOST times its note's fields score. A note found by its
    fields alone (an alias, a tag, a word of its path) enters with the chunk that holds them."""
    named = {(hit.root, hit.path): hit.score for hit in notes}
    scored = {
        _key(hit): _rescored(hit, hit.score + FIELDS_BOOST * named.get((hit.root, hit.path), 0.0))
        for hit in body
    }
    for note in notes:
        scored.setdefault(_key(note), _rescored(note, FIELDS_BOOST * note.score))
    return sorted(scored.values(), key=lambda hit: hit.score, reverse=True)


def fuse(lists: Sequence[tuple[Sequence[SearchHit], float]]) -> list[SearchHit]:
    """Weighted reciprocal rank fusion: a chunk scores the sum of weight / (RRF_K + rank) over the
    lists it is in (rank from 0, as Qdrant counts), so one found by both arms rises."""
    first_seen: dict[_ChunkKey, SearchHit] = {}
    scores: dict[_ChunkKey, float] = {}
    for hits, weight in lists:
        for position, hit in enumerate(hits):
            key = _key(hit)
            first_seen.setdefault(key, hit)
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + position)
    fused = [_rescored(hit, scores[key]) for key, hit in first_seen.items()]
    return sorted(fused, key=lambda hit: hit.score, reverse=True)


def _key(hit: SearchHit) -> _ChunkKey:
    return (hit.root, hit.path, hit.chunk_index)


def _rescored(hit: SearchHit, score: float) -> SearchHit:
    return hit.model_copy(update={"score": score})
