"""`[[wikilinks]]` read back from a real index: resolved as Obsidian resolves them, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmorch.config import IngestSettings, Settings, StoreSettings
from llmorch.errors import RetrievalError
from llmorch.ingest.sync import ingest
from llmorch.retrieval.knowledge import KnowledgeBase

NOTES = {
    "Backup strategy.md": "---\naliases: [backups]\n---\n# Backups\n\nSee [[network|the LAN]] "
    "and [[projects/NAS]]. Also [[Nowhere]].",
    "network.md": "# Network\n\nThe NAS sits on the LAN. Plans live in [[backups]].",
    "projects/NAS.md": "# NAS build\n\nParts list; the [[Backup strategy#Schedule]] needs it.",
    "unrelated.md": "# Garden\n\nTomatoes, no links here.",
}


@pytest.fixture
async def kb(tmp_path: Path) -> KnowledgeBase:
    vault = tmp_path / "vault"
    for name, text in NOTES.items():
        (vault / name).parent.mkdir(parents=True, exist_ok=True)
        (vault / name).write_text(text, encoding="utf-8")
    settings = Settings(store=StoreSettings(path=tmp_path / "qdrant"), ingest=IngestSettings())
    await ingest([vault], settings)
    return KnowledgeBase.open(settings)


def test_a_note_lists_what_it_links_to_then_what_links_to_it(kb: KnowledgeBase) -> None:
    try:
        related = kb.related("Backup strategy")
    finally:
        kb.close()
    assert [(r.relation, r.path) for r in related] == [
        ("links to", "network.md"),
        ("links to", "projects/NAS.md"),
        ("linked from", "network.md"),  # through the alias `backups`
        ("linked from", "projects/NAS.md"),  # a heading link still names the note
    ]


@pytest.mark.parametrize("name", ["projects/NAS.md", "NAS", "nas build"])
def test_a_note_is_named_by_path_file_name_or_title_in_any_case(
    kb: KnowledgeBase, name: str
) -> None:
    try:
        related = kb.related(name)
    finally:
        kb.close()
    assert [r.path for r in related] == ["Backup strategy.md", "Backup strategy.md"]


def test_an_unknown_note_is_a_retrieval_error_saying_how_to_name_one(kb: KnowledgeBase) -> None:
    try:
        with pytest.raises(RetrievalError, match="no indexed note is called 'Nowhere'"):
            kb.related("Nowhere")
    finally:
        kb.close()
