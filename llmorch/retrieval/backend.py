"""The one place that picks a VectorStore backend from the settings: Qdrant Edge or a Qdrant server.

Apart from `store.py` so the backends can share its protocol and helpers without importing back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmorch.errors import ConfigError
from llmorch.retrieval.store import VectorStore

if TYPE_CHECKING:
    from llmorch.config import Settings


def open_store(
    settings: Settings,
    collection: str | None = None,
    *,
    must_exist: bool = False,
    create: bool = True,
) -> VectorStore:
    """The configured backend for one collection (default: settings.store.collection).
    `must_exist` (for searching) refuses a missing collection before creating anything; without
    `create` (a dry run) nothing is written to open a missing one."""
    from llmorch.config import check_collection_name

    name = collection or settings.store.collection
    try:
        check_collection_name(name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if settings.store.kind == "server":
        from llmorch.retrieval.server import ServerStore

        return ServerStore.connect(settings.store, name)
    from llmorch.retrieval.edge import EdgeStore

    return EdgeStore.open(
        settings.store.edge_path(),
        name,
        lock_timeout=settings.store.busy_timeout_s,
        must_exist=must_exist,
        create=create,
    )
