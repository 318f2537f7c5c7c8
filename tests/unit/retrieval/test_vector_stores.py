"""Both backends behave alike: a real Qdrant Edge shard in tmp_path and qdrant-client's `:memory:`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from embedding_server import bag_of_words_vector

from llmorch.errors import ConfigError, RetrievalError
from llmorch.retrieval import bm25
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.ranking import RankQuery, rank
from llmorch.retrieval.schema import (
    DENSE_VECTOR,
    RRF_K,
    SPARSE_VECTOR,
    ChunkPayload,
    ChunkPoint,
    CollectionMeta,
    StoreQuery,
)
from llmorch.retrieval.server import ServerStore
from llmorch.retrieval.store import VectorStore

ROOT = "/vault"
NOTES = {
    "animals/fox.md": ("Foxes", "Habits", "The red fox hunts voles at dusk.", ["animal", "wild"]),
    "animals/dog.md": ("Dogs", "Care", "A dog needs a walk every day.", ["animal", "pet"]),
    "code/python.md": ("Python", "Async", "asyncio runs coroutines on an event loop.", ["code"]),
    "code/rust.md": ("Rust", "Ownership", "The borrow checker enforces ownership.", ["code"]),
}


def make_points(path: str, *, dense: bool, chunks: int = 1, hash_: str = "h1") -> list[ChunkPoint]:
    title, heading, text, tags = NOTES[path]
    payloads = [
        ChunkPayload(
            root=ROOT,
            path=path,
            title=title,
            heading=heading,
            text=f"{text} part {i}" if chunks > 1 else text,
            tags=tags,
            content_hash=hash_,
            chunk_index=i,
            chunk_count=chunks,
            mtime_ns=1,
            size=10,
        )
        for i in range(chunks)
    ]
    sparse = bm25.embed_documents([f"{p.title}\n{p.text}" for p in payloads])
    return [
        ChunkPoint(p, s, bag_of_words_vector(p.text) if dense else None)
        for p, s in zip(payloads, sparse, strict=True)
    ]


def open_backend(kind: str, tmp_path: Path) -> VectorStore:
    if kind == "edge":
        return EdgeStore.open(tmp_path / "qdrant", "notes")
    from qdrant_client import QdrantClient

    return ServerStore(QdrantClient(":memory:"), "notes")


@pytest.fixture(params=["edge", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[VectorStore]:
    store = open_backend(request.param, tmp_path)
    yield store
    store.close()


def fill(store: VectorStore, *, dense: bool) -> None:
    store.create(
        CollectionMeta(embedding_model="bow" if dense else None, dense_size=64 if dense else None)
    )
    for path in NOTES:
        store.replace_files(ROOT, [path], make_points(path, dense=dense))


def query(text: str, **kwargs: object) -> StoreQuery:
    """One store arm: BM25."""
    return StoreQuery(SPARSE_VECTOR, bm25.embed_query(text), **kwargs)  # type: ignore[arg-type]


def ranked(store: VectorStore, text: str, *, dense: bool = False, **kwargs: object) -> list[str]:
    """The paths a whole search ranks: BM25, fused with the dense arm when `dense`."""
    vector = bag_of_words_vector(text) if dense else None
    search = RankQuery(sparse=bm25.embed_query(text), dense=vector, **kwargs)  # type: ignore[arg-type]
    return [hit.path for hit in rank(store, search)]


def test_missing_collection_tells_the_user_to_ingest(backend: VectorStore) -> None:
    assert not backend.exists()
    with pytest.raises(RetrievalError) as err:
        backend.meta()
    assert "llmorch ingest" in str(err.value)


def test_bm25_search_returns_the_matching_chunk_with_citation_fields(backend: VectorStore) -> None:
    fill(backend, dense=False)
    hits = backend.query(query("fox voles"))
    assert hits[0].path == "animals/fox.md"
    assert hits[0].title == "Foxes"
    assert hits[0].heading == "Habits"
    assert "voles" in hits[0].text
    assert hits[0].score > 0
    assert all(h.path != "code/rust.md" for h in hits)


def test_dense_arm_ranks_by_the_dense_vector(backend: VectorStore) -> None:
    fill(backend, dense=True)
    hits = backend.query(StoreQuery(DENSE_VECTOR, bag_of_words_vector("borrow checker"), limit=2))
    assert [h.path for h in hits][:1] == ["code/rust.md"]
    assert len(hits) == 2


def test_hybrid_search_fuses_dense_and_bm25(backend: VectorStore) -> None:
    fill(backend, dense=True)
    assert backend.meta().hybrid
    search = RankQuery(
        sparse=bm25.embed_query("borrow checker ownership"),
        dense=bag_of_words_vector("borrow checker ownership"),
        limit=2,
    )
    hits = rank(backend, search)
    assert hits[0].path == "code/rust.md"
    assert len(hits) == 2
    # RRF sums 1/(k + rank) over the arms (rank from 0): first in both the dense and BM25 lists.
    assert hits[0].score == pytest.approx(2 / RRF_K)
    assert hits[1].score < hits[0].score


def test_tag_filter_matches_any_or_all(backend: VectorStore) -> None:
    fill(backend, dense=False)
    words = "fox dog asyncio borrow walk voles loop checker"
    any_hits = backend.query(query(words, limit=10, tags=["pet", "code"]))
    assert {h.path for h in any_hits} == {"animals/dog.md", "code/python.md", "code/rust.md"}
    all_hits = backend.query(query(words, limit=10, tags=["animal", "wild"], tag_mode="all"))
    assert {h.path for h in all_hits} == {"animals/fox.md"}


def test_path_prefix_filter_keeps_one_folder(backend: VectorStore) -> None:
    fill(backend, dense=True)
    paths = ranked(backend, "fox dog asyncio borrow", dense=True, limit=10, path_prefix="code/")
    assert set(paths) == {"code/python.md", "code/rust.md"}


def test_score_threshold_drops_weak_hits(backend: VectorStore) -> None:
    fill(backend, dense=False)
    everything = backend.query(query("fox voles dog", limit=10))
    assert len(everything) == 2
    cut = (everything[0].score + everything[1].score) / 2
    assert len(ranked(backend, "fox voles dog", limit=10, score_threshold=cut)) == 1


def test_replacing_a_file_leaves_no_stale_chunks(backend: VectorStore) -> None:
    fill(backend, dense=False)
    backend.replace_files(
        ROOT, ["code/python.md"], make_points("code/python.md", dense=False, chunks=3)
    )
    assert backend.count() == 6
    backend.replace_files(
        ROOT, ["code/python.md"], make_points("code/python.md", dense=False, chunks=1, hash_="h2")
    )
    assert backend.count() == 4
    record = backend.manifest()[(ROOT, "code/python.md")]
    assert (record.content_hash, record.chunk_count, record.points) == ("h2", 1, 1)


def test_manifest_flags_a_file_with_missing_points_as_incomplete(backend: VectorStore) -> None:
    fill(backend, dense=False)
    three = make_points("code/rust.md", dense=False, chunks=3)
    backend.replace_files(ROOT, ["code/rust.md"], three[:2])  # as if the run died mid-write
    manifest = backend.manifest()
    assert not manifest[(ROOT, "code/rust.md")].complete
    assert manifest[(ROOT, "code/python.md")].complete


def test_touch_and_delete_files(backend: VectorStore) -> None:
    fill(backend, dense=False)
    backend.touch_file(ROOT, "animals/dog.md", 42)
    assert backend.manifest()[(ROOT, "animals/dog.md")].mtime_ns == 42
    backend.delete_files(ROOT, ["animals/dog.md", "animals/fox.md"])
    assert set(backend.manifest()) == {(ROOT, "code/python.md"), (ROOT, "code/rust.md")}


def test_both_backends_rank_and_score_bm25_alike(tmp_path: Path) -> None:
    results = []
    for kind in ("edge", "server"):
        store = open_backend(kind, tmp_path)
        fill(store, dense=False)
        results.append([(h.path, round(h.score, 3)) for h in store.query(query("dog walk fox"))])
        store.close()
    assert results[0] == results[1]


@pytest.mark.parametrize("name", ["../escape", "a/b", ".hidden", "", "x" * 200])
def test_a_collection_name_that_is_not_a_plain_name_is_refused(tmp_path: Path, name: str) -> None:
    from llmorch.config import Settings
    from llmorch.retrieval.backend import open_store

    settings = Settings.model_validate({"store": {"path": str(tmp_path / "index")}})
    with pytest.raises(ConfigError, match="invalid collection name"):
        open_store(settings, name or "/")
    assert not (tmp_path / "escape").exists()


KILLED_WRITER = """
import os, signal, sys
sys.path.insert(0, sys.argv[2])
from pathlib import Path
from test_vector_stores import fill
from llmorch.retrieval.edge import EdgeStore

store = EdgeStore.open(Path(sys.argv[1]), "notes")
fill(store, dense=False)
os.kill(os.getpid(), signal.SIGKILL)  # never closed, never flushed by a close
"""


def test_edge_writes_survive_a_killed_process_without_a_log_to_replay(tmp_path: Path) -> None:
    here = Path(__file__).parent
    child = subprocess.run(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path / "qdrant"), str(here)],
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(here.parents[2]), str(here)])},
        check=False,
    )
    assert child.returncode == -signal.SIGKILL
    store = EdgeStore.open(tmp_path / "qdrant", "notes")
    try:
        assert {path for _, path in store.manifest()} == set(NOTES)
        assert [h.path for h in store.query(query("borrow checker"))][:1] == ["code/rust.md"]
    finally:
        store.close()
    # Each `search` opens the shard: without a write-ahead log it has nothing to scan and replay.
    assert not (tmp_path / "qdrant" / "notes" / "shard" / "wal").exists()
