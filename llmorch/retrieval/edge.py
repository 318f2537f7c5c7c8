"""The default store: Qdrant Edge, the Qdrant engine in-process, one shard per collection under the
data dir. A file lock beside the shard keeps one process at a time; a second one waits briefly,
announcing itself so a long-lived holder (`llmorch serve`) can let it in, then is told "busy"."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from filelock import FileLock, Timeout

from llmorch.errors import IndexMissingError, RetrievalError
from llmorch.retrieval.hits import SearchHit
from llmorch.retrieval.schema import (
    KEYWORD_INDEXED_FIELDS,
    MANIFEST_FIELDS,
    ChunkPoint,
    CollectionMeta,
    FileRecord,
    SparseVec,
    StoreQuery,
    add_to_manifest,
)
from llmorch.retrieval.store import engine_call, hit_from_payload

if TYPE_CHECKING:
    import qdrant_edge as qe

META_FILE = "collection.json"
SHARD_DIR = "shard"
LOCK_FILE = ".lock"
WAITING_FILE = ".waiting"
_SCROLL_PAGE = 2048

_P = ParamSpec("_P")
_T = TypeVar("_T")


class EdgeStore:
    """A collection stored as `<edge_path>/<collection>/{shard/, collection.json, .lock}`."""

    def __init__(self, directory: Path, collection: str, lock: FileLock | None) -> None:
        self._dir = directory
        self._collection = collection
        self._lock = lock
        self._shard: qe.EdgeShard | None = None

    @classmethod
    def open(
        cls,
        edge_path: Path,
        collection: str,
        *,
        lock_timeout: float = 0,
        must_exist: bool = False,
        create: bool = True,
    ) -> EdgeStore:
        """Take the collection's lock (RetrievalError "busy" if another process holds it).

        `must_exist` is for readers: a missing collection is an error before anything is written,
        so searching a mistyped name leaves no empty folder behind. Without `create` (a dry run)
        a missing collection is opened as an empty one, and nothing at all is written."""
        directory = edge_path / collection
        if must_exist and not (directory / META_FILE).is_file():
            raise _missing(collection, edge_path)
        if not create and not directory.is_dir():
            return cls(directory, collection, None)
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RetrievalError(f"cannot create index folder {directory}: {exc.strerror}") from exc
        lock = FileLock(directory / LOCK_FILE, timeout=lock_timeout)
        # Held while waiting: a holder that checks `others_waiting()` between requests closes.
        waiting = FileLock(directory / WAITING_FILE, timeout=lock_timeout)
        try:
            with waiting:
                lock.acquire()
        except Timeout:
            raise RetrievalError(
                f"index {directory} is busy: another llmorch process (an ingest?) is using it",
                hint="wait for it to finish and try again",
            ) from None
        return cls(directory, collection, lock)

    @property
    def collection(self) -> str:
        return self._collection

    @property
    def directory(self) -> Path:
        return self._dir

    def exists(self) -> bool:
        # The meta file is written last on create, so its presence means the shard is complete.
        return (self._dir / META_FILE).is_file()

    def others_waiting(self) -> bool:
        """Whether another process is waiting for this collection (an ingest while serving)."""
        probe = FileLock(self._dir / WAITING_FILE, timeout=0)
        try:
            probe.acquire()
        except Timeout:
            return True
        probe.release()
        return False

    def meta(self) -> CollectionMeta:
        meta_path = self._dir / META_FILE
        try:
            return CollectionMeta.model_validate_json(meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise _missing(self._collection, self._dir.parent) from None
        except (OSError, ValueError) as exc:
            raise RetrievalError(
                f"collection {self._collection!r}: unreadable {meta_path}: {exc}",
                hint="re-run `llmorch ingest PATH --full` to rebuild the index",
            ) from exc

    def create(self, meta: CollectionMeta) -> None:
        import qdrant_edge as qe

        self.drop()
        vectors: dict[str, qe.EdgeVectorParams] = {
            name: qe.EdgeVectorParams(size=size, distance=qe.Distance.Cosine)
            for name, size in meta.dense_vectors().items()
        }
        # No write-ahead log: every open (each `search`) would scan and replay it, about 100 ms
        # on a 20k-chunk index. Writes are flushed as they are made instead (`_write`), so a
        # killed ingest leaves what it had written, as the log would have.
        config = qe.EdgeConfig(
            vectors=vectors,
            sparse_vectors={
                name: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)
                for name in meta.sparse_vectors()
            },
            wal_enabled=False,
        )
        shard = self._call(qe.EdgeShard.create, str(self._dir / SHARD_DIR), config)
        for name in KEYWORD_INDEXED_FIELDS:
            op = qe.UpdateOperation.create_field_index(name, qe.PayloadSchemaType.Keyword)
            self._call(shard.update, op)
        self._call(shard.flush)
        self._shard = shard
        tmp = self._dir / (META_FILE + ".tmp")
        tmp.write_text(meta.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(self._dir / META_FILE)

    def drop(self) -> None:
        self._close_shard()
        (self._dir / META_FILE).unlink(missing_ok=True)
        shutil.rmtree(self._dir / SHARD_DIR, ignore_errors=True)

    def replace_files(self, root: str, paths: Sequence[str], points: Sequence[ChunkPoint]) -> None:
        import qdrant_edge as qe

        operations: list[qe.UpdateOperation] = []
        if paths:
            operations.append(
                qe.UpdateOperation.delete_points_by_filter(_files_filter(root, paths))
            )
        if points:
            operations.append(qe.UpdateOperation.upsert_points([_to_point(p) for p in points]))
        self._write(operations)

    def delete_files(self, root: str, paths: Sequence[str]) -> None:
        self.replace_files(root, paths, [])

    def touch_file(self, root: str, path: str, mtime_ns: int) -> None:
        import qdrant_edge as qe

        op = qe.UpdateOperation.set_payload_by_filter(
            _files_filter(root, [path]), {"mtime_ns": mtime_ns}
        )
        self._write([op])

    def manifest(self) -> dict[tuple[str, str], FileRecord]:
        manifest: dict[tuple[str, str], FileRecord] = {}
        for payload in self.payloads(MANIFEST_FIELDS):
            add_to_manifest(manifest, payload)
        return manifest

    def payloads(self, fields: list[str]) -> Iterator[dict[str, Any]]:
        import qdrant_edge as qe

        shard = self._open_shard()
        offset: qe.PointId | None = None
        while True:
            request = qe.ScrollRequest(
                offset=offset,
                limit=_SCROLL_PAGE,
                with_payload=qe.PayloadSelector.Include(fields),
                with_vector=False,
            )
            records, offset = self._call(shard.scroll, request)
            yield from (r.payload for r in records if r.payload is not None)
            if offset is None:
                return

    def query(self, query: StoreQuery) -> list[SearchHit]:
        import qdrant_edge as qe

        shard = self._open_shard()
        request = qe.QueryRequest(
            limit=query.limit,
            query=qe.Query.Nearest(_vector(query.vector), using=query.using),
            filter=_search_filter(query),
            with_payload=True,
        )
        points = self._call(shard.query, request)
        return [hit_from_payload(p.payload or {}, p.score) for p in points]

    def count(self) -> int:
        import qdrant_edge as qe

        if not self.exists():
            return 0
        return self._call(self._open_shard().count, qe.CountRequest(exact=True))

    def flush(self) -> None:
        """Persist, then merge segments: an ingest's many small writes otherwise make every
        later open (each `search`) replay and load them one by one. A no-op when already merged."""
        if self._shard is not None:
            self._call(self._shard.flush)
            self._call(self._shard.optimize)

    def close(self) -> None:
        self._close_shard()
        if self._lock is not None and self._lock.is_locked:
            self._lock.release()

    def load(self) -> None:
        """Load the shard now rather than at the first query (the CLI does it in a thread)."""
        self._open_shard()

    def _write(self, operations: Sequence[qe.UpdateOperation]) -> None:
        """Apply the operations and flush them: shards are created without a write-ahead log."""
        if not operations:
            return
        shard = self._open_shard()
        for op in operations:
            self._call(shard.update, op)
        self._call(shard.flush)

    def _open_shard(self) -> qe.EdgeShard:
        if self._shard is None:
            import qdrant_edge as qe

            self.meta()  # a clear "run ingest first" instead of the engine's own error
            self._shard = self._call(qe.EdgeShard.load, str(self._dir / SHARD_DIR))
        return self._shard

    def _close_shard(self) -> None:
        # No flush here: every write was flushed when made, and a search (the common case) wrote
        # nothing, so flushing on close only cost it time.
        if self._shard is not None:
            self._shard.close()
            self._shard = None

    def _call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return engine_call(
            f"qdrant edge ({self._dir})",
            "if the index is damaged, re-run `llmorch ingest PATH --full`",
            fn,
            *args,
            **kwargs,
        )


def _missing(collection: str, edge_path: Path) -> IndexMissingError:
    return IndexMissingError(
        f"collection {collection!r} does not exist in {edge_path}",
        hint="run `llmorch ingest PATH` first",
    )


def _to_point(point: ChunkPoint) -> qe.Point:
    import qdrant_edge as qe

    vector: dict[str, qe.NamedVector] = {
        name: _vector(v) for name, v in point.named_vectors().items()
    }
    return qe.Point(point.id, vector, point.payload.model_dump())


def _vector(vector: SparseVec | list[float]) -> qe.SparseVector | list[float]:
    import qdrant_edge as qe

    if isinstance(vector, SparseVec):
        return qe.SparseVector(vector.indices, vector.values)
    return vector


def _files_filter(root: str, paths: Sequence[str]) -> qe.Filter:
    import qdrant_edge as qe

    return qe.Filter(
        must=[
            qe.FieldCondition("root", match=qe.MatchValue(root)),
            qe.FieldCondition("path", match=qe.MatchAny(list(paths))),
        ]
    )


def _search_filter(query: StoreQuery) -> qe.Filter | None:
    import qdrant_edge as qe

    conditions: list[qe.ConditionType] = []
    if query.tags and query.tag_mode == "all":
        conditions += [qe.FieldCondition("tags", match=qe.MatchValue(t)) for t in query.tags]
    elif query.tags:
        conditions.append(qe.FieldCondition("tags", match=qe.MatchAny(list(query.tags))))
    if query.path_prefix:
        conditions.append(qe.FieldCondition("path", match=qe.MatchPrefix(query.path_prefix)))
    if query.paths:
        conditions.append(qe.FieldCondition("path", match=qe.MatchAny(list(query.paths))))
    return qe.Filter(must=conditions) if conditions else None
