"""BM25 sparse vectors from qdrant_edge's built-in model: no download, and the same weights for both
backends, so an edge index and a server index score a query alike."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from llmorch.retrieval.schema import SparseVec

if TYPE_CHECKING:
    from qdrant_edge import Bm25


@cache
def _model() -> Bm25:
    from qdrant_edge import Bm25

    return Bm25()


def embed_documents(texts: Sequence[str]) -> list[SparseVec]:
    """Term-frequency weights per document; the collection's IDF modifier supplies the rest."""
    model = _model()
    out: list[SparseVec] = []
    for text in texts:
        vec = model.embed_document(text)
        out.append(SparseVec(indices=list(vec.indices), values=list(vec.values)))
    return out


def embed_query(text: str) -> SparseVec:
    vec = _model().embed_query(text)
    return SparseVec(indices=list(vec.indices), values=list(vec.values))
