"""Fixtures for retrieval tests (helpers live in embedding_server.py so test modules can import them)."""

from embedding_server import embedding_server
from rerank_server import rerank_server

__all__ = ["embedding_server", "rerank_server"]
