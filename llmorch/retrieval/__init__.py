"""Searching the notes: what a search asks and returns, the knowledge base over a vector store,
and the store backends (Qdrant Edge embedded, Qdrant server)."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.retrieval.backend import open_store
    from llmorch.retrieval.hits import KnowledgeSearch, SearchHit, SearchRequest
    from llmorch.retrieval.knowledge import KnowledgeBase
    from llmorch.retrieval.store import VectorStore

__all__ = [
    "KnowledgeBase",
    "KnowledgeSearch",
    "SearchHit",
    "SearchRequest",
    "VectorStore",
    "open_store",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "backend": ["open_store"],
        "hits": ["KnowledgeSearch", "SearchHit", "SearchRequest"],
        "knowledge": ["KnowledgeBase"],
        "store": ["VectorStore"],
    },
)
