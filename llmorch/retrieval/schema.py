"""The collection schema both stores share: vector names, payload fields, and the shapes that cross
the store boundary (points in, queries in, hits and file records out)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from llmorch.errors import RetrievalError

DENSE_VECTOR = "dense"
SPARSE_VECTOR = "bm25"
FIELDS_VECTOR = "fields"
"""BM25 over what names a note (title, aliases, tags, file path, heading paths), held by the note's
first chunk only: its IDF is then counted over notes, and a note's name is one signal, not a word
repeated in each of its chunks."""
DENSE_FIELDS_VECTOR = "fields_dense"
"""The same names embedded, on the same first chunk, in indexes with dense vectors."""
SCHEMA_VERSION = 1
RRF_K = 5
"""Reciprocal-rank-fusion constant. Small, so a chunk one arm ranks first counts for much more than
its tenth: each arm fetches only a few dozen chunks, where the usual 60 (made for long lists) made
ranks 1 and 10 almost equal. bench/retrieval_quality.py hybrid MRR@10: k=60 0.779, 10 0.840,
5 0.877, 2 0.832 (k chosen on that set; the held-out set is measured apart)."""
FIELDS_BOOST = 0.5
"""How much a note's fields BM25 adds to the body BM25 of each of its chunks. The body arm counts
the title once per chunk, so in a long note it is a common word; this gives it (and the headings
elsewhere in the note) their own weight. bench/retrieval_quality.py MRR@10 for boosts 0, 0.3,
0.5, 0.7, 1: BM25 0.696, 0.717, 0.737, 0.741, 0.732; hybrid 0.877, 0.877, 0.892, 0.878, 0.876."""
DENSE_FIELDS_BOOST = 0.25
"""How much the cosine of a note's embedded names adds to each of its chunks' dense cosine.
bench/retrieval_quality.py MRR@10 for 0, 0.1, 0.25, 0.5, 1: dense 0.793, 0.817, 0.830, 0.849,
0.803; hybrid 0.892, 0.892, 0.898, 0.898, 0.863 (0.25: well short of where it falls off)."""
ARM_WEIGHTS = {SPARSE_VECTOR: 1.0, DENSE_VECTOR: 1.0}
"""Weighted RRF: how much each arm's ranking counts. Equal: bench/retrieval_quality.py found no
weighting that helps beyond noise (dense 2.0: hybrid MRR@10 0.780 vs 0.779)."""

KEYWORD_INDEXED_FIELDS = ("tags", "path", "root")
MANIFEST_FIELDS = ["root", "path", "content_hash", "mtime_ns", "size", "chunk_count", "chunking"]

_POINT_NAMESPACE = uuid.UUID("6f1c1e52-3b7e-4a8e-9a39-0c7d3f0a51b2")


def point_id(root: str, path: str, chunk_index: int) -> str:
    """Deterministic id, so re-ingesting a file overwrites its own points and never duplicates them."""
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{root}\0{path}\0{chunk_index}"))


class ChunkPayload(BaseModel):
    """Everything stored beside a chunk's vectors: enough to cite it and to tell whether it is stale."""

    root: str = Field(description="Absolute source folder the path is relative to.")
    path: str = Field(description="POSIX path relative to root.")
    title: str
    heading: str = Field(description="Heading path, e.g. 'Setup > Install'.")
    text: str
    tags: list[str] = Field(default_factory=list[str])
    aliases: list[str] = Field(default_factory=list[str])
    links: list[str] = Field(default_factory=list[str])
    content_hash: str
    chunk_index: int
    chunk_count: int
    mtime_ns: int
    size: int
    chunking: str = Field(
        default="", description="The ingest.chunk_size/chunk_overlap the text was cut with."
    )


@dataclass(frozen=True)
class SparseVec:
    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class ChunkPoint:
    payload: ChunkPayload
    sparse: SparseVec
    dense: list[float] | None = None
    fields: SparseVec | None = None
    """The note's fields vector, on its first chunk only (see FIELDS_VECTOR)."""
    fields_dense: list[float] | None = None
    """The note's names embedded, beside `fields` when the index has dense vectors."""

    @property
    def id(self) -> str:
        return point_id(self.payload.root, self.payload.path, self.payload.chunk_index)

    def named_vectors(self) -> dict[str, SparseVec | list[float]]:
        """The vectors this point holds, by the names the collection gives them."""
        named = {
            SPARSE_VECTOR: self.sparse,
            DENSE_VECTOR: self.dense,
            FIELDS_VECTOR: self.fields,
            DENSE_FIELDS_VECTOR: self.fields_dense,
        }
        return {name: vector for name, vector in named.items() if vector is not None}


@dataclass(frozen=True)
class StoreQuery:
    """One arm of a search: a vector to rank by, and the filters. Stores only translate it into their
    client's types; fusing arms is retrieval/ranking.py's work, the same for every store."""

    using: str
    """The named vector: SPARSE_VECTOR, FIELDS_VECTOR, DENSE_VECTOR or DENSE_FIELDS_VECTOR."""
    vector: SparseVec | list[float]
    limit: int = 6
    tags: list[str] = field(default_factory=list[str])
    tag_mode: Literal["any", "all"] = "any"
    path_prefix: str | None = None
    paths: list[str] = field(default_factory=list[str])
    """Only chunks of these notes (paths in the vault), when not empty."""


@dataclass
class FileRecord:
    """What the store holds for one file: the manifest entry incremental ingest compares against."""

    root: str
    path: str
    content_hash: str
    mtime_ns: int
    size: int
    chunk_count: int
    chunking: str = ""
    points: int = 0

    @property
    def complete(self) -> bool:
        """False when a run died between writing a file's points; the next run rewrites it."""
        return self.points == self.chunk_count


def add_to_manifest(manifest: dict[tuple[str, str], FileRecord], payload: dict[str, Any]) -> None:
    """Fold one stored point's manifest fields into per-file records (shared by both stores' scans)."""
    key = (str(payload["root"]), str(payload["path"]))
    record = manifest.get(key)
    if record is None or record.content_hash != payload["content_hash"]:
        # Points from two versions of a file mean an interrupted write: the record must look stale.
        stale = record is not None
        record = FileRecord(
            root=key[0],
            path=key[1],
            content_hash=str(payload["content_hash"]),
            mtime_ns=int(payload["mtime_ns"]),
            size=int(payload["size"]),
            chunk_count=-1 if stale else int(payload["chunk_count"]),
            chunking=str(payload.get("chunking", "")),
        )
        manifest[key] = record
    record.points += 1


class CollectionMeta(BaseModel):
    """Recorded when a collection is created, so a later mismatch is a clear error, not garbage."""

    schema_version: int = SCHEMA_VERSION
    embedding_model: str | None = None
    dense_size: int | None = None
    fields_vector: bool = False
    """Whether notes carry the FIELDS_VECTOR (and, when hybrid, the DENSE_FIELDS_VECTOR). Indexes
    made before them have none (and say nothing): they are still searched, by the chunks' vectors
    alone, until `ingest --full` rebuilds them."""

    @property
    def hybrid(self) -> bool:
        return self.dense_size is not None

    def sparse_vectors(self) -> list[str]:
        """The sparse vectors this collection's points hold (all with the IDF modifier)."""
        return [SPARSE_VECTOR, FIELDS_VECTOR] if self.fields_vector else [SPARSE_VECTOR]

    def dense_vectors(self) -> dict[str, int]:
        """The dense vectors (cosine) this collection's points hold, with their size."""
        if self.dense_size is None:
            return {}
        names = [DENSE_VECTOR, DENSE_FIELDS_VECTOR] if self.fields_vector else [DENSE_VECTOR]
        return dict.fromkeys(names, self.dense_size)

    def check_embedder(self, collection: str, model: str | None, size: int | None) -> None:
        """Raise unless vectors from this embedder (or none) can go into or query this collection."""
        rebuild = "re-run `llmorch ingest PATH --full` to rebuild the index"
        if self.schema_version != SCHEMA_VERSION:
            raise RetrievalError(
                f"collection {collection!r} uses index schema v{self.schema_version}, "
                f"this llmorch writes v{SCHEMA_VERSION}",
                hint=rebuild,
            )
        if model is None:
            return
        if self.embedding_model is None:
            raise RetrievalError(
                f"collection {collection!r} was built without dense vectors but embedding model "
                f"{model!r} is configured",
                hint=rebuild,
            )
        if model != self.embedding_model or (size is not None and size != self.dense_size):
            raise RetrievalError(
                f"collection {collection!r} was built with embedding model "
                f"{self.embedding_model!r} ({self.dense_size} dims), not {model!r}"
                + (f" ({size} dims)" if size is not None else ""),
                hint=rebuild,
            )
