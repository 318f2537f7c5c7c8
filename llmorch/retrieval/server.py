"""The at-scale store: a Qdrant server or cluster through qdrant-client, with the same collection
schema as the edge store. The schema record lives in the collection's own metadata."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from llmorch.errors import ConfigError, IndexMissingError, RetrievalError
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
    from qdrant_client import QdrantClient, models
    from qdrant_client.conversions.common_types import PointId

    from llmorch.config import StoreSettings

META_KEY = "llmorch"
_SCROLL_PAGE = 2048
_UPSERT_BATCH = 512

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ServerStore:
    """One collection on a Qdrant server; the client is injectable (tests use `:memory:`)."""

    def __init__(self, client: QdrantClient, collection: str, *, where: str = "qdrant") -> None:
        self._client = client
        self._collection = collection
        self._where = where

    @classmethod
    def connect(cls, settings: StoreSettings, collection: str) -> ServerStore:
        from qdrant_client import QdrantClient

        if not settings.url:  # StoreSettings refuses this; a model_construct()ed one may not
            raise ConfigError(
                "store.kind is 'server' but store.url is not set",
                hint="set store.url (e.g. http://localhost:6333) or use store.kind: edge",
            )
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        client = QdrantClient(url=settings.url, api_key=key)
        return cls(client, collection, where=settings.url)

    @property
    def collection(self) -> str:
        return self._collection

    def exists(self) -> bool:
        return self._call(self._client.collection_exists, self._collection)

    def meta(self) -> CollectionMeta:
        if not self.exists():
            raise IndexMissingError(
                f"collection {self._collection!r} does not exist on {self._where}",
                hint="run `llmorch ingest PATH` first",
            )
        info = self._call(self._client.get_collection, self._collection)
        recorded = (info.config.metadata or {}).get(META_KEY)
        if not isinstance(recorded, dict):
            raise RetrievalError(
                f"collection {self._collection!r} on {self._where} was not created by llmorch",
                hint="pick another collection name or re-run `llmorch ingest PATH --full`",
            )
        return CollectionMeta.model_validate(recorded)

    def create(self, meta: CollectionMeta) -> None:
        from qdrant_client import models

        self.drop()
        self._call(
            self._client.create_collection,
            self._collection,
            vectors_config={
                name: models.VectorParams(size=size, distance=models.Distance.COSINE)
                for name, size in meta.dense_vectors().items()
            },
            sparse_vectors_config={
                name: models.SparseVectorParams(modifier=models.Modifier.IDF)
                for name in meta.sparse_vectors()
            },
            metadata={META_KEY: meta.model_dump()},
        )
        with warnings.catch_warnings():
            # Local mode (tests) warns that indexes do nothing there; a real server uses them.
            warnings.simplefilter("ignore")
            for name in KEYWORD_INDEXED_FIELDS:
                self._call(
                    self._client.create_payload_index,
                    self._collection,
                    field_name=name,
                    field_schema=models.PayloadSchemaType.KEYWORD,
                )

    def drop(self) -> None:
        if self.exists():
            self._call(self._client.delete_collection, self._collection)

    def replace_files(self, root: str, paths: Sequence[str], points: Sequence[ChunkPoint]) -> None:
        from qdrant_client import models

        if paths:
            self._call(
                self._client.delete,
                self._collection,
                points_selector=models.FilterSelector(filter=_files_filter(root, paths)),
                wait=True,
            )
        structs = [_to_point(p) for p in points]
        for start in range(0, len(structs), _UPSERT_BATCH):
            self._call(
                self._client.upsert,
                self._collection,
                points=structs[start : start + _UPSERT_BATCH],
                wait=True,
            )

    def delete_files(self, root: str, paths: Sequence[str]) -> None:
        self.replace_files(root, paths, [])

    def touch_file(self, root: str, path: str, mtime_ns: int) -> None:
        self._call(
            self._client.set_payload,
            self._collection,
            payload={"mtime_ns": mtime_ns},
            points=_files_filter(root, [path]),
            wait=True,
        )

    def manifest(self) -> dict[tuple[str, str], FileRecord]:
        manifest: dict[tuple[str, str], FileRecord] = {}
        for payload in self.payloads(MANIFEST_FIELDS):
            add_to_manifest(manifest, payload)
        return manifest

    def payloads(self, fields: list[str]) -> Iterator[dict[str, Any]]:
        self.meta()
        offset: PointId | None = None
        while True:
            records, offset = self._call(
                self._client.scroll,
                self._collection,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=fields,
                with_vectors=False,
            )
            yield from (r.payload for r in records if r.payload is not None)
            if offset is None:
                return

    def query(self, query: StoreQuery) -> list[SearchHit]:
        response = self._call(
            self._client.query_points,
            self._collection,
            query=_vector(query.vector),
            using=query.using,
            query_filter=_search_filter(query),
            limit=query.limit,
            with_payload=True,
        )
        return [hit_from_payload(p.payload or {}, p.score) for p in response.points]

    def count(self) -> int:
        if not self.exists():
            return 0
        return self._call(self._client.count, self._collection, exact=True).count

    def flush(self) -> None:
        """Writes are sent with wait=True, so there is nothing buffered here."""

    def others_waiting(self) -> bool:
        return False  # the server orders concurrent writers itself

    def close(self) -> None:
        self._client.close()

    def _call(self, fn: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        return engine_call(
            f"qdrant server {self._where}",
            "check store.url, store.api_key and that the server is running",
            fn,
            *args,
            **kwargs,
        )


def _to_point(point: ChunkPoint) -> models.PointStruct:
    from qdrant_client import models

    vector: dict[str, models.Vector] = {
        name: _vector(v) for name, v in point.named_vectors().items()
    }
    return models.PointStruct(id=point.id, vector=vector, payload=point.payload.model_dump())


def _vector(vector: SparseVec | list[float]) -> models.SparseVector | list[float]:
    from qdrant_client import models

    if isinstance(vector, SparseVec):
        return models.SparseVector(indices=vector.indices, values=vector.values)
    return vector


def _files_filter(root: str, paths: Sequence[str]) -> models.Filter:
    from qdrant_client import models

    return models.Filter(
        must=[
            models.FieldCondition(key="root", match=models.MatchValue(value=root)),
            models.FieldCondition(key="path", match=models.MatchAny(any=list(paths))),
        ]
    )


def _search_filter(query: StoreQuery) -> models.Filter | None:
    from qdrant_client import models

    conditions: list[models.Condition] = []
    if query.tags and query.tag_mode == "all":
        conditions += [
            models.FieldCondition(key="tags", match=models.MatchValue(value=t)) for t in query.tags
        ]
    elif query.tags:
        conditions.append(
            models.FieldCondition(key="tags", match=models.MatchAny(any=list(query.tags)))
        )
    if query.path_prefix:
        conditions.append(
            models.FieldCondition(key="path", match=models.MatchPrefix(prefix=query.path_prefix))
        )
    if query.paths:
        conditions.append(
            models.FieldCondition(key="path", match=models.MatchAny(any=list(query.paths)))
        )
    return models.Filter(must=conditions) if conditions else None
