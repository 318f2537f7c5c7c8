"""Linked notes as context: a hit brings the notes it links to, or that link to it, each by its
chunk best matching the question, bounded by retrieval.linked_notes (off by default)."""

from __future__ import annotations

from pathlib import Path

from llmorch.config import RetrievalSettings, Settings, StoreSettings
from llmorch.ingest.sync import ingest
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase

NOTES = {
    "Roses.md": "# Roses\n\nRoses bloom in June. See [[Pruning]] and [[Feeding roses|feeding]].\n",
    "Pruning.md": "# Pruning\n\n## Roses\n\nCut roses back by a third in late winter.\n\n"
    "## Apples\n\nThin apple trees in summer.\n",
    "Feeding roses.md": "# Feeding roses\n\nFeed roses with compost in spring.\n",
    "Garden log.md": "# Garden log\n\nThe roses looked tired this year; read [[Roses]].\n",
    "Backups.md": "# Backups\n\nRestic runs nightly.\n",
}


async def open_vault(tmp_path: Path, linked_notes: int) -> KnowledgeBase:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    settings = Settings(
        store=StoreSettings(path=tmp_path / "qdrant"),
        retrieval=RetrievalSettings(linked_notes=linked_notes),
    )
    await ingest([vault], settings)
    return KnowledgeBase.open(settings)


async def test_a_hit_brings_its_linked_notes_best_chunk_within_the_bound(tmp_path: Path) -> None:
    kb = await open_vault(tmp_path, linked_notes=2)
    try:
        hits = await kb.search(SearchRequest(query="when do roses bloom", limit=1))
    finally:
        await kb.aclose()
    assert hits[0].path == "Roses.md"
    linked = hits[1:]
    assert len(linked) == 2
    assert {h.path for h in linked} <= {"Pruning.md", "Feeding roses.md", "Garden log.md"}
    # Of Pruning.md, the chunk about roses is the one that matches, not the one about apples.
    assert all(h.heading != "Pruning > Apples" for h in linked)


async def test_linked_notes_are_off_by_default_and_a_request_can_ask_for_them(
    tmp_path: Path,
) -> None:
    kb = await open_vault(tmp_path, linked_notes=0)
    try:
        alone = await kb.search(SearchRequest(query="when do roses bloom", limit=1))
        linked = await kb.search(SearchRequest(query="roses", limit=1, linked_notes=10))
    finally:
        await kb.aclose()
    assert [h.path for h in alone] == ["Roses.md"]
    top = linked[0].path
    # Every note linked to or from the top hit, each once, and nothing unlinked.
    expected = {
        "Roses.md": {"Pruning.md", "Feeding roses.md", "Garden log.md"},
        "Feeding roses.md": {"Roses.md"},
        "Garden log.md": {"Roses.md"},
        "Pruning.md": {"Roses.md"},
    }[top]
    assert {h.path for h in linked[1:]} == expected
    assert "Backups.md" not in {h.path for h in linked}
