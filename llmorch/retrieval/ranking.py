"""How a search ranks chunks: in each arm (BM25, dense) a chunk's score is raised by its note's
fields score (title, aliases, tags, path, headings) in that arm, then the arms are fused by
weighted reciprocal rank fusion. Done here over each arm's list, so every store ranks alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from llmorch.retrieval.hits import SearchHit
from llmorch.retrieval.schema import (
    ARM_WEIGHTS,
    DENSE_FIELDS_BOOST,
    DENSE_FIELDS_VECTOR,
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
_Names = tuple[str, SparseVec | list[float] | None, float]
"""A fields arm: its vector name, the query's vector for it (None: not asked), its boost."""
Scores = dict[_ChunkKey, float]
"""Chunks (root, path, chunk index) and their scores, in rank order: best first."""


@dataclass(frozen=True)
class RankQuery:
    """A search turned into vectors: the arms to ask and the filters they share."""

    sparse: SparseVec | None
    """Body BM25; None asks the dense arm alone (which must then be set)."""
    dense: list[float] | None = None
    fields: SparseVec | None = None
    """The query's words against the notes' fields; None for an index without them."""
    dense_fields: list[float] | None = None
    """The query's dense vector against the notes' embedded fields; None without them."""
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
        arms = [self.sparse, self.fields, self.dense, self.dense_fields]
        return max(self.limit * 4, 20) if sum(a is not None for a in arms) > 1 else self.limit


def rank(store: VectorStore, query: RankQuery) -> list[SearchHit]:
    """The best `query.limit` chunks, best first, scored by the arms the query asks."""
    found: dict[_ChunkKey, SearchHit] = {}

    def ask(using: str, vector: SparseVec | list[float]) -> Scores:
        hits = store.query(query.arm(using, vector))
        for hit in hits:
            found.setdefault(_key(hit), hit)
        return {_key(hit): hit.score for hit in hits}

    def arm(using: str, vector: SparseVec | list[float], names: _Names) -> tuple[Scores, float]:
        scores = ask(using, vector)
        names_using, names_vector, boost = names
        if names_vector is not None:
            scores = with_fields(scores, ask(names_using, names_vector), boost)
        return scores, ARM_WEIGHTS[using]

    lists: list[tuple[Scores, float]] = []
    if query.sparse is not None:
        lists.append(arm(SPARSE_VECTOR, query.sparse, (FIELDS_VECTOR, query.fields, FIELDS_BOOST)))
    if query.dense is not None:
        names = (DENSE_FIELDS_VECTOR, query.dense_fields, DENSE_FIELDS_BOOST)
        lists.append(arm(DENSE_VECTOR, query.dense, names))
    scores = lists[0][0] if len(lists) == 1 else fuse(lists)
    best = [
        key
        for key in scores
        if query.score_threshold is None or scores[key] >= query.score_threshold
    ]
    # Only the hits returned are copied with their new score: each arm fetched a pool of them.
    return [found[key].model_copy(update={"score": scores[key]}) for key in best[: query.limit]]


def with_fields(body: Scores, names: Scores, boost: float) -> Scores:
    """Each chunk's score plus `boost` times its note's fields score, best first. A note found by
    its fields alone (an alias, a tag, a word of its path) enters with the chunk that holds them."""
    named = {(root, path): score for (root, path, _), score in names.items()}
    boosted = {key: score + boost * named.get(key[:2], 0.0) for key, score in body.items()}
    for key, score in names.items():
        boosted.setdefault(key, boost * score)
    return _best_first(boosted)


def fuse(lists: Sequence[tuple[Scores, float]]) -> Scores:
    """Weighted reciprocal rank fusion of lists ranked best first: a chunk scores the sum of
    weight / (RRF_K + rank) over the lists it is in (rank from 0, as Qdrant counts), so one found
    by both arms rises."""
    fused: Scores = {}
    for ranked, weight in lists:
        for position, key in enumerate(ranked):
            fused[key] = fused.get(key, 0.0) + weight / (RRF_K + position)
    return _best_first(fused)


def _best_first(scores: Scores) -> Scores:
    return dict(sorted(scores.items(), key=lambda item: item[1], reverse=True))


def _key(hit: SearchHit) -> _ChunkKey:
    return (hit.root, hit.path, hit.chunk_index)
