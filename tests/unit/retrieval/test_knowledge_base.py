"""KnowledgeBase end to end: ingest a vault, then search it, with dense vectors from a real HTTP
embeddings server on 127.0.0.1, on a real edge shard and on qdrant-client's `:memory:` server API."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from embedding_server import EmbeddingServer

from llmorch.config import EmbeddingSettings, Settings, StoreSettings, load_config
from llmorch.errors import ConfigError, RetrievalError
from llmorch.ingest.sync import ingest
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase
from llmorch.retrieval.server import ServerStore

NOTES = {
    "garden/tomatoes.md": "---\ntags: [garden]\n---\n# Tomatoes\n\nWater tomatoes deeply twice a week in July.\n",
    "garden/roses.md": "# Roses\n\nPrune roses in late winter before new growth. #garden\n",
    "tech/backup.md": "# Backups\n\n## Schedule\n\nRestic snapshots run nightly to the NAS. #infra\n",
}


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    for rel, text in NOTES.items():
        (tmp_path / "vault" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "vault" / rel).write_text(text, encoding="utf-8")
    return tmp_path / "vault"


def make_settings(
    tmp_path: Path, server: EmbeddingServer | None, model: str = "bow-64"
) -> Settings:
    embedding = None
    if server is not None:
        embedding = EmbeddingSettings(base_url=server.base_url, model=model, batch_size=2)
    return Settings(store=StoreSettings(path=tmp_path / "qdrant"), embedding=embedding)


async def search(settings: Settings, request: SearchRequest) -> list[str]:
    kb = KnowledgeBase.open(settings)
    try:
        return [h.citation() for h in await kb.search(request)]
    finally:
        await kb.aclose()


async def test_hybrid_search_over_an_ingested_vault_uses_the_embedding_endpoint(
    tmp_path: Path, vault: Path, embedding_server: EmbeddingServer
) -> None:
    settings = make_settings(tmp_path, embedding_server)
    summary = await ingest([vault], settings)
    assert summary.chunks_written == 3
    # Dimension probe, then the 3 chunks and the 3 notes' names (title, tags, path, headings) in
    # batches of 2, in flight together, in either order.
    probe, *batches = embedding_server.batches
    assert (len(probe), sorted(len(b) for b in batches)) == (1, [2, 2, 2])
    assert "Backups\ninfra\ntech/backup\nSchedule" in [t for b in batches for t in b]

    store = EdgeStore.open(settings.store.edge_path(), "notes")
    meta = store.meta()
    store.close()
    assert (meta.embedding_model, meta.dense_size) == ("bow-64", 64)

    hits = await search(settings, SearchRequest(query="when should I water tomatoes", limit=2))
    assert hits[0] == "garden/tomatoes.md#Tomatoes"
    assert embedding_server.batches[-1] == ["when should I water tomatoes"]
    assert await search(settings, SearchRequest(query="nightly snapshots", tags=["garden"])) != [
        "tech/backup.md#Backups > Schedule"
    ]


async def test_hits_carry_a_snippet_around_the_query_words(tmp_path: Path, vault: Path) -> None:
    settings = make_settings(tmp_path, None)
    await ingest([vault], settings)
    kb = KnowledgeBase.open(settings)
    try:
        [hit, *_] = await kb.search(SearchRequest(query="restic", path_prefix="tech/"))
    finally:
        kb.close()
    assert hit.citation() == "tech/backup.md#Backups > Schedule"
    assert "Restic snapshots" in hit.snippet
    assert hit.tags == ["infra"]


async def test_tag_filters_ignore_case_and_a_leading_hash(tmp_path: Path, vault: Path) -> None:
    settings = make_settings(tmp_path, None)
    await ingest([vault], settings)
    request = SearchRequest(query="water prune restic", tags=["#Garden", "INFRA"], limit=10)
    assert sorted(await search(settings, request)) == [
        "garden/roses.md#Roses",
        "garden/tomatoes.md#Tomatoes",
        "tech/backup.md#Backups > Schedule",
    ]


async def test_equal_paths_from_two_folders_are_told_apart_by_their_root(tmp_path: Path) -> None:
    for name in ("home", "work"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "todo.md").write_text(f"# Todo\n\nFeed the {name} zebrafish.\n")
    settings = make_settings(tmp_path, None)
    await ingest([tmp_path / "home", tmp_path / "work"], settings)
    kb = KnowledgeBase.open(settings)
    try:
        hits = await kb.search(SearchRequest(query="zebrafish"))
    finally:
        kb.close()
    assert sorted((h.root, h.path) for h in hits) == [
        (str((tmp_path / "home").resolve()), "todo.md"),
        (str((tmp_path / "work").resolve()), "todo.md"),
    ]


async def test_a_missing_collection_says_to_run_ingest_first(tmp_path: Path) -> None:
    with pytest.raises(RetrievalError) as err:
        KnowledgeBase.open(make_settings(tmp_path, None))
    assert "llmorch ingest PATH" in str(err.value)


async def test_a_request_may_name_another_collection(tmp_path: Path, vault: Path) -> None:
    settings = make_settings(tmp_path, None)
    await ingest([vault / "garden"], settings)
    await ingest([vault / "tech"], settings, collection="work")
    assert await search(settings, SearchRequest(query="restic")) == []
    assert await search(settings, SearchRequest(query="restic", collection="work")) == [
        "backup.md#Backups > Schedule"
    ]


async def test_a_different_embedding_model_is_a_clear_error_not_garbage(
    tmp_path: Path, vault: Path, embedding_server: EmbeddingServer
) -> None:
    await ingest([vault], make_settings(tmp_path, embedding_server))
    other = make_settings(tmp_path, embedding_server, model="another-model")
    with pytest.raises(RetrievalError, match="built with embedding model 'bow-64'") as err:
        KnowledgeBase.open(other)
    assert "--full" in str(err.value)
    with pytest.raises(RetrievalError, match="another-model"):
        await ingest([vault], other)
    rebuilt = await ingest([vault], other, full=True)
    assert len(rebuilt.added) == 3


async def test_bm25_only_index_meets_a_newly_configured_embedder(
    tmp_path: Path, vault: Path, embedding_server: EmbeddingServer
) -> None:
    await ingest([vault], make_settings(tmp_path, None))
    with_embedder = make_settings(tmp_path, embedding_server)
    # Search still works (BM25 alone); ingest refuses to mix vectors in, and says how to rebuild.
    assert (await search(with_embedder, SearchRequest(query="roses")))[0].startswith("garden/roses")
    with pytest.raises(RetrievalError, match="without dense vectors"):
        await ingest([vault], with_embedder)


async def test_hybrid_index_without_an_embedder_searches_bm25_but_will_not_ingest(
    tmp_path: Path, vault: Path, embedding_server: EmbeddingServer
) -> None:
    await ingest([vault], make_settings(tmp_path, embedding_server))
    plain = make_settings(tmp_path, None)
    assert (await search(plain, SearchRequest(query="roses")))[0].startswith("garden/roses")
    with pytest.raises(RetrievalError, match="no embedding endpoint"):
        await ingest([vault], plain)


async def test_server_store_ingests_and_searches_the_same_way(
    tmp_path: Path, vault: Path, embedding_server: EmbeddingServer
) -> None:
    from qdrant_client import QdrantClient

    settings = make_settings(tmp_path, embedding_server)
    store = ServerStore(QdrantClient(":memory:"), "notes")
    await ingest([vault], settings, store=store)
    assert not (await ingest([vault], settings, store=store)).changed
    kb = KnowledgeBase.open(settings, store=store)
    try:
        hits = await kb.search(SearchRequest(query="prune roses winter", limit=1))
    finally:
        await kb.aclose()
    assert hits[0].citation() == "garden/roses.md#Roses"


def test_server_store_without_a_url_is_a_config_error_saying_what_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LLMORCH_STORE__KIND", "server")
    with pytest.raises(
        ConfigError, match=r"env LLMORCH_STORE__KIND: store: .*store\.url is not set"
    ):
        load_config()


HOLD_LOCK = """
import sys, time
from pathlib import Path
from llmorch.retrieval.edge import EdgeStore
store = EdgeStore.open(Path(sys.argv[1]), "notes")
print("holding", flush=True)
time.sleep(60)
"""


def test_another_process_holding_the_index_makes_it_busy(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tmp_path / "qdrant")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "holding"
        with pytest.raises(RetrievalError, match="busy") as err:
            EdgeStore.open(tmp_path / "qdrant", "notes")
        assert err.value.hint is not None
    finally:
        child.kill()
        child.wait()
    EdgeStore.open(tmp_path / "qdrant", "notes").close()  # released when the holder dies


def test_a_damaged_collection_record_is_a_retrieval_error(tmp_path: Path) -> None:
    store = EdgeStore.open(tmp_path / "qdrant", "notes")
    (store.directory / "collection.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RetrievalError, match="unreadable"):
        store.meta()
    store.close()


def test_searching_a_collection_that_does_not_exist_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    settings = Settings.model_validate({"store": {"path": str(tmp_path / "qdrant")}})
    with pytest.raises(RetrievalError, match="'nope' does not exist"):
        KnowledgeBase.open(settings, collection="nope")
    assert not (tmp_path / "qdrant" / "nope").exists()


@pytest.mark.parametrize("built_hybrid", [True, False])
async def test_an_embedding_setup_that_does_not_match_the_index_is_a_warning(
    tmp_path: Path, vault: Path, embedding_server: EmbeddingServer, built_hybrid: bool
) -> None:
    from loguru import logger

    hybrid = make_settings(tmp_path, embedding_server)
    plain = make_settings(tmp_path, None)
    await ingest([vault], hybrid if built_hybrid else plain)
    warnings: list[str] = []
    logger.enable("llmorch")
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING", format="{message}")
    try:
        hits = await search(plain if built_hybrid else hybrid, SearchRequest(query="tomatoes"))
    finally:
        logger.remove(sink)
        logger.disable("llmorch")
    assert hits
    assert len(warnings) == 1
    assert "searching with BM25 only, not hybrid" in warnings[0]
    assert ("no `embedding` section" in warnings[0]) is built_hybrid


async def test_indexed_roots_are_read_once_and_again_after_the_index_was_closed(
    tmp_path: Path, vault: Path
) -> None:
    settings = make_settings(tmp_path, None)
    await ingest([vault], settings)
    kb = KnowledgeBase.open(settings)
    try:
        reads: list[int] = []
        store = EdgeStore.manifest

        def counted(self: EdgeStore) -> Any:
            reads.append(1)
            return store(self)

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(EdgeStore, "manifest", counted)
            assert kb.indexed_roots() == [vault]
            assert kb.indexed_roots() == [vault]
            assert len(reads) == 1  # a server's read_note asks on every call
            kb.close()  # as when an ingest waits for the index
            other = tmp_path / "other"
            other.mkdir()
            (other / "note.md").write_text("# Other\n\nMore text.\n", encoding="utf-8")
            await ingest([other], settings)
            reads.clear()  # the ingest read it too
            assert kb.indexed_roots() == sorted([vault, other])
            assert len(reads) == 1
    finally:
        await kb.aclose()
