"""The VectorStore protocol both backends (Qdrant Edge embedded, Qdrant server) implement, and the
one place that picks a backend from the settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, Protocol, TypeVar

from llmorch.errors import RetrievalError
from llmorch.retrieval.hits import SearchHit
from llmorch.retrieval.schema import ChunkPoint, CollectionMeta, FileRecord, StoreQuery

if TYPE_CHECKING:
    from llmorch.config import Settings


class VectorStore(Protocol):
    """One collection of note chunks. Methods are synchronous: Edge runs in-process and the server
    calls are short; async callers that care can use `asyncio.to_thread`."""

    @property
    def collection(self) -> str: ...

    def exists(self) -> bool: ...

    def meta(self) -> CollectionMeta:
        """The recorded schema; RetrievalError telling the user to ingest when there is none."""
        ...

    def create(self, meta: CollectionMeta) -> None:
        """Create the collection (dense vector only when meta says so, bm25 always, indexes)."""
        ...

    def drop(self) -> None:
        """Remove the collection and everything in it; a no-op when it does not exist."""
        ...

    def replace_files(self, root: str, paths: Sequence[str], points: Sequence[ChunkPoint]) -> None:
        """Delete every point of these files, then write the new points: no stale chunk survives."""
        ...

    def delete_files(self, root: str, paths: Sequence[str]) -> None: ...

    def touch_file(self, root: str, path: str, mtime_ns: int) -> None:
        """Record a new mtime for a file whose content did not change, so the next run skips hashing."""
        ...

    def manifest(self) -> dict[tuple[str, str], FileRecord]:
        """Per-file records keyed by (root, path), built from the stored payloads."""
        ...

    def query(self, query: StoreQuery) -> list[SearchHit]: ...

    def count(self) -> int: ...

    def flush(self) -> None: ...

    def others_waiting(self) -> bool:
        """True when another process waits for this collection, so a long-lived reader should
        close it and reopen later (always False for a Qdrant server, which has no such lock)."""
        ...

    def close(self) -> None: ...


_COLLECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")
_P = ParamSpec("_P")
_T = TypeVar("_T")


def engine_call(
    where: str, hint: str, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
) -> _T:
    """Run a Qdrant call, turning its untyped exceptions into one-line RetrievalErrors."""
    try:
        return fn(*args, **kwargs)
    except RetrievalError:
        raise
    except Exception as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise RetrievalError(f"{where}: {first_line}", hint=hint) from exc


def hit_from_payload(payload: dict[str, Any], score: float) -> SearchHit:
    """A stored payload as the shared SearchHit; the snippet is filled in by the caller."""
    return SearchHit(
        path=str(payload.get("path", "")),
        title=str(payload.get("title", "")),
        heading=str(payload.get("heading", "")),
        root=str(payload.get("root", "")),
        snippet="",
        text=str(payload.get("text", "")),
        score=score,
        tags=[str(t) for t in payload.get("tags", [])],
        chunk_index=int(payload.get("chunk_index", 0)),
    )


def open_store(
    settings: Settings, collection: str | None = None, *, must_exist: bool = False
) -> VectorStore:
    """The configured backend for one collection (default: settings.store.collection).
    `must_exist` (for searching) refuses a missing collection before creating anything."""
    name = collection or settings.store.collection
    if not _COLLECTION_NAME.fullmatch(name):
        # The edge store uses the name as a folder: `../x` must not write outside the index.
        raise RetrievalError(
            f"invalid collection name {name!r}",
            hint="use letters, digits, '-' and '_', starting with a letter or digit",
        )
    if settings.store.kind == "server":
        from llmorch.retrieval.server import ServerStore

        return ServerStore.connect(settings.store, name)
    from llmorch.retrieval.edge import EdgeStore

    return EdgeStore.open(
        settings.store.edge_path(),
        name,
        lock_timeout=settings.store.busy_timeout_s,
        must_exist=must_exist,
    )
