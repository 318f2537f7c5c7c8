"""What names a note (title, aliases, tags, path, headings) counts as its own signal: real notes
ingested into a real edge shard, then searched through KnowledgeBase."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from embedding_server import EmbeddingServer

from llmorch.config import EmbeddingSettings, Settings, StoreSettings
from llmorch.ingest.sync import ingest
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.hits import SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase
from llmorch.retrieval.schema import CollectionMeta

NOTES = {
    # Its body never says "language": only its title does.
    "settings/language-settings.md": "# Language settings\n\n"
    "Pick a locale from the list under Preferences; the app restarts to apply it.\n",
    # Says the same words of the query, in its body, but is about something else.
    "journal/lisbon.md": "# Lisbon trip\n\n"
    "The ticket app had a language menu, and the app said the language menu was slow.\n",
    # "language" is a common word in the vault's bodies, and in no other note's name.
    "code/python.md": "# Python\n\nA language with a friendly syntax.\n",
    "code/rust.md": "# Rust\n\nA systems language without a garbage collector.\n",
    "tools/i18n.md": "---\naliases: [Translations]\ntags: [localisation]\n---\n# Gettext\n\n"
    "Message catalogues are compiled with msgfmt before a release.\n",
}


def write_vault(root: Path) -> Path:
    for rel, text in NOTES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(store=StoreSettings(path=tmp_path / "qdrant"))


async def search(
    settings: Settings, query: str, arms: Literal["auto", "semantic"] = "auto"
) -> list[str]:
    kb = KnowledgeBase.open(settings)
    try:
        hits = await kb.search(SearchRequest(query=query, limit=3, arms=arms))
        return [hit.path for hit in hits]
    finally:
        await kb.aclose()


async def test_a_note_titled_by_the_subject_outranks_one_that_only_mentions_its_words(
    tmp_path: Path, settings: Settings
) -> None:
    await ingest([write_vault(tmp_path / "vault")], settings)
    hits = await search(settings, "switch the app to another language")
    assert hits[:2] == ["settings/language-settings.md", "journal/lisbon.md"]


async def test_a_note_is_found_by_an_alias_or_tag_its_text_never_uses(
    tmp_path: Path, settings: Settings
) -> None:
    await ingest([write_vault(tmp_path / "vault")], settings)
    assert (await search(settings, "translations"))[:1] == ["tools/i18n.md"]
    assert (await search(settings, "localisation"))[:1] == ["tools/i18n.md"]


async def test_the_dense_arm_also_finds_a_note_by_its_embedded_names(
    tmp_path: Path, embedding_server: EmbeddingServer
) -> None:
    settings = Settings(
        store=StoreSettings(path=tmp_path / "qdrant"),
        embedding=EmbeddingSettings(base_url=embedding_server.base_url, model="bow-64"),
    )
    await ingest([write_vault(tmp_path / "vault")], settings)
    # No chunk's text shares a word with the alias; the note's embedded names do.
    assert (await search(settings, "translations", arms="semantic"))[:1] == ["tools/i18n.md"]


async def test_an_index_made_before_the_fields_vector_still_searches_and_says_to_rebuild(
    tmp_path: Path, settings: Settings
) -> None:
    from loguru import logger

    old = EdgeStore.open(settings.store.edge_path(), "notes")
    old.create(CollectionMeta())  # what an older llmorch recorded: no fields vector
    old.close()
    vault = write_vault(tmp_path / "vault")
    warnings: list[str] = []
    logger.enable("llmorch")
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING", format="{message}")
    try:
        await ingest([vault], settings)
    finally:
        logger.remove(sink)
        logger.disable("llmorch")
    assert any("ingest PATH --full" in w for w in warnings)
    # Body BM25 alone: the note that says the words wins, and nothing finds the alias.
    assert (await search(settings, "switch the app to another language"))[:1] == [
        "journal/lisbon.md"
    ]
    assert await search(settings, "translations") == []

    await ingest([vault], settings, full=True)
    assert (await search(settings, "translations"))[:1] == ["tools/i18n.md"]
