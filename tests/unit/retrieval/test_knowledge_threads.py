"""The shard is used from one thread at a time: a server searches in worker threads while its
event loop may ask the same KnowledgeBase for note roots or a note's links."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from llmorch.config import Settings, StoreSettings
from llmorch.ingest.sync import ingest
from llmorch.retrieval.edge import EdgeStore
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.retrieval.knowledge import KnowledgeBase
from llmorch.retrieval.schema import StoreQuery

NOTES = {
    "backup.md": "# Backups\n\nRestic snapshots run nightly to the NAS. See [[Garden]].\n",
    "garden.md": "# Garden\n\nWater the tomatoes twice a week.\n",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    vault = tmp_path / "vault"
    vault.mkdir()
    for name, text in NOTES.items():
        (vault / name).write_text(text, encoding="utf-8")
    settings = Settings(store=StoreSettings(path=tmp_path / "qdrant"))
    asyncio.run(ingest([vault], settings))
    return settings


class HeldQuery:
    """Makes a store's query wait until released, logging when it ends."""

    def __init__(self, store: EdgeStore, log: list[str]) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._query = store.query
        self._log = log
        store.query = self  # type: ignore[method-assign]

    def __call__(self, query: StoreQuery) -> list[SearchHit]:
        self.entered.set()
        self.release.wait(5)
        try:
            return self._query(query)
        finally:
            self._log.append("search")


def roots(kb: KnowledgeBase) -> object:
    return kb.indexed_roots()


def links(kb: KnowledgeBase) -> object:
    return kb.related("Garden")


@pytest.mark.parametrize("call", [roots, links])
async def test_a_lookup_from_another_thread_waits_for_the_search_in_flight(
    settings: Settings, call: Callable[[KnowledgeBase], object]
) -> None:
    log: list[str] = []
    store = EdgeStore.open(settings.store.edge_path(), settings.store.collection)
    held = HeldQuery(store, log)
    kb = KnowledgeBase(settings, store)
    try:
        search = asyncio.create_task(kb.search(SearchRequest(query="restic", linked_notes=0)))
        assert await asyncio.to_thread(held.entered.wait, 5)

        def lookup() -> None:
            call(kb)
            log.append("lookup")

        other = threading.Thread(target=lookup)
        other.start()
        await asyncio.sleep(0.3)  # time enough for a lookup that does not wait to finish
        held.release.set()
        await search
        await asyncio.to_thread(other.join, 5)
        # One search asks the store once per arm (body and names); the lookup comes after all.
        assert log == ["search"] * (len(log) - 1) + ["lookup"]
        assert len(log) > 1
    finally:
        await kb.aclose()
