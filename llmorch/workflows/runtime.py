"""What workflows run against: settings, the model client and the notes, each opened on first use.

A command pays only for what it touches (`search` never imports openai), and one `aclose` releases all.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from llmorch.retrieval.hits import SearchHit, SearchRequest

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.llm.model import ChatModel
    from llmorch.retrieval.knowledge import KnowledgeBase


class Runtime:
    """Lazily opened resources for one command or chat session; also a KnowledgeSearch itself."""

    def __init__(
        self, settings: Settings, *, model: str | None = None, collection: str | None = None
    ) -> None:
        self.settings = settings
        self.collection = collection or settings.store.collection
        self._model = model
        self._llm: ChatModel | None = None
        self._knowledge: KnowledgeBase | None = None

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def llm(self) -> ChatModel:
        if self._llm is None:
            from llmorch.llm.client import LlmClient

            llm_settings = self.settings.llm
            if self._model is not None:
                llm_settings = llm_settings.model_copy(update={"model": self._model})
            self._llm = LlmClient(llm_settings)
        return self._llm

    async def set_model(self, model: str) -> None:
        """Use another model from the next call on (chat's /model)."""
        self._model = model
        if self._llm is not None:
            await self._llm.aclose()
            self._llm = None

    def knowledge(self) -> KnowledgeBase:
        if self._knowledge is None:
            from llmorch.retrieval.knowledge import KnowledgeBase

            self._knowledge = KnowledgeBase.open(self.settings, collection=self.collection)
        return self._knowledge

    def opened_knowledge(self) -> KnowledgeBase | None:
        """The index if something already opened it (a background check must not open it)."""
        return self._knowledge

    def note_roots(self) -> list[Path]:
        """Where read_note may read: the configured folders, else the ones the index was built from."""
        return self.settings.note_roots() or self.knowledge().indexed_roots()

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await self.knowledge().search(request)

    async def release_knowledge(self) -> None:
        """Close the index between chat turns, so an ingest in another terminal is not blocked."""
        if self._knowledge is not None:
            knowledge, self._knowledge = self._knowledge, None
            await knowledge.aclose()

    async def aclose(self) -> None:
        await self.release_knowledge()
        if self._llm is not None:
            llm, self._llm = self._llm, None
            await llm.aclose()
