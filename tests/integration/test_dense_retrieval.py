"""Ingest and search with real semantic vectors from a real embedding server (all-MiniLM-L6-v2 on
llama-cpp-python), including the server dying in the middle of an ingest."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from conftest import EmbeddingServer, EmbeddingServerFactory

from llmorch.config import IngestSettings, Settings, StoreSettings
from llmorch.errors import LlmUnreachableError
from llmorch.ingest.sync import IngestProgress, ingest
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.embedder import OpenAIEmbedder
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase

NOTES = {
    "language.md": "# Language settings\n\nPick the locale of menus and dialogs under Preferences.",
    "backup.md": "# Backups\n\nRestic snapshots go to the NAS every night at two.",
    "garden.md": "# Garden\n\nWater the tomatoes on Tuesdays; mulch keeps the soil damp.",
}


def settings_for(tmp_path: Path, server: EmbeddingServer) -> Settings:
    return Settings(
        embedding=server.settings(max_in_flight=2),
        store=StoreSettings(path=tmp_path / "qdrant"),
        ingest=IngestSettings(paths=[tmp_path / "vault"]),
    )


def write_vault(folder: Path, notes: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        (folder / name).write_text(text, encoding="utf-8")


async def test_the_server_answers_unit_vectors_after_normalising(
    embedding_server: EmbeddingServer,
) -> None:
    embedder = OpenAIEmbedder.from_settings(embedding_server.settings())
    try:
        cat, kitten, taxes = await embedder.embed(
            ["the cat sits on the mat", "a kitten rests on a rug", "quarterly tax filing"]
        )
    finally:
        await embedder.aclose()
    assert len(cat) == 384
    assert math.isclose(math.fsum(x * x for x in cat), 1.0, rel_tol=1e-6)
    similarity = lambda a, b: math.fsum(x * y for x, y in zip(a, b, strict=True))  # noqa: E731
    assert similarity(cat, kitten) > similarity(cat, taxes) + 0.3


async def test_a_question_sharing_no_word_with_the_note_finds_it_by_meaning(
    tmp_path: Path, embedding_server: EmbeddingServer
) -> None:
    write_vault(tmp_path / "vault", NOTES)
    settings = settings_for(tmp_path, embedding_server)
    summary = await ingest([], settings)
    assert summary.chunks_written == 3
    kb = KnowledgeBase.open(settings)
    try:
        hits = await kb.search(SearchRequest(query="switch the app interface to French", limit=1))
    finally:
        await kb.aclose()
    assert [h.path for h in hits] == ["language.md"]


async def test_a_killed_embedding_server_leaves_whole_files_and_the_next_run_resumes(
    tmp_path: Path, start_embedding_server: EmbeddingServerFactory
) -> None:
    notes = {
        f"note-{n:03}.md": "\n\n".join(
            f"## Part {p}\n\nNote {n} part {p} talks about topic {n * 7 + p} at some length."
            for p in range(8)
        )
        for n in range(60)
    }
    write_vault(tmp_path / "vault", notes)
    server = start_embedding_server()
    settings = settings_for(tmp_path, server)
    settings.embedding = server.settings(max_in_flight=2)

    def kill_midway(event: IngestProgress) -> None:
        if event.done == 45:  # after the first batch of 256 chunks was written
            server.kill()

    with pytest.raises(LlmUnreachableError, match="resumes where it stopped"):
        await ingest([], settings, on_progress=kill_midway)

    store = EdgeStore.open(tmp_path / "qdrant", "notes")
    try:
        kept = store.manifest()
    finally:
        store.close()
    assert 0 < len(kept) < len(notes)
    assert all(record.complete and record.chunk_count == 8 for record in kept.values())

    restarted = start_embedding_server()
    settings.embedding = restarted.settings()
    summary = await ingest([], settings)
    assert summary.unchanged == len(kept)
    assert len(summary.added) == len(notes) - len(kept)
    assert summary.chunks_total == 8 * len(notes)
