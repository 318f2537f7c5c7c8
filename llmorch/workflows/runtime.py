"""What workflows run against: settings, the model client, the notes and the tools (MCP servers
included), each opened on first use.

A command pays only for what it touches (`search` never imports openai), and one `aclose` releases all.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from llmorch.logging import logger
from llmorch.retrieval.hits import KnowledgeSearch, SearchHit, SearchRequest
from llmorch.tools.approval import ApprovalGate, AskUser

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.llm.model import ChatModel
    from llmorch.retrieval.knowledge import KnowledgeBase
    from llmorch.retrieval.store import VectorStore
    from llmorch.tools.base import Tool, ToolRegistry
    from llmorch.tools.mcp import McpToolset

YIELD_CHECK_S = 0.2
"""How soon a waiting ingest gets the index from a serving process when no search comes by."""


class Runtime:
    """Lazily opened resources for one command or chat session; also a KnowledgeSearch itself."""

    def __init__(
        self,
        settings: Settings,
        *,
        model: str | None = None,
        collection: str | None = None,
        fallback: Sequence[str] | None = None,
        on_note: Callable[[str], None] | None = None,
        ask_approval: AskUser | None = None,
        assume_yes: bool = False,
        opened_index: Callable[[], VectorStore | None] | None = None,
    ) -> None:
        """`ask_approval` asks the user about a tool call (the CLI's terminal prompt); without it,
        calls that need approval are refused unless `assume_yes` or the config allows them.
        `opened_index` gives the collection if something opened it ahead (the CLI's early start)."""
        self.settings = settings
        self.collection = collection or settings.store.collection
        self.approval = ApprovalGate.from_settings(
            settings.tools, ask=ask_approval, assume_yes=assume_yes
        )
        self._model = model
        self._fallback = fallback
        self._on_note = on_note
        self._llm: ChatModel | None = None
        self._knowledge: KnowledgeBase | None = None
        self._opened_index = opened_index
        self._toolset: McpToolset | None = None
        self._server_tools: list[Tool] = []
        self._starting = asyncio.Lock()
        self._lender: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    def llm(self) -> ChatModel:
        """The model named by --model (else llm.model), a profile or a model on the default server,
        with the fallback profiles (the workflow's own, else llm.fallback) behind it."""
        if self._llm is None:
            from llmorch.llm.profiles import build_chat_model

            self._llm = build_chat_model(
                self.settings, self._model, fallback=self._fallback, on_switch=self._on_note
            )
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

            store = self._take_opened_index()
            self._knowledge = KnowledgeBase.open(
                self.settings, collection=self.collection, store=store
            )
        return self._knowledge

    def opened_knowledge(self) -> KnowledgeBase | None:
        """The index if it is already open: a server then reaches it without a thread hop."""
        return self._knowledge

    def _take_opened_index(self) -> VectorStore | None:
        take, self._opened_index = self._opened_index, None
        store = take() if take is not None else None
        if store is None:
            return None
        if store.collection != self.collection:
            store.close()
            return None
        logger.debug("using collection {!r}, opened while the command started", store.collection)
        return store

    def note_roots(self) -> list[Path]:
        """Where read_note may read: the configured folders, else the ones the index was built from."""
        return self.settings.note_roots() or self.knowledge().indexed_roots()

    async def tool_registry(self, knowledge: KnowledgeSearch | None = None) -> ToolRegistry:
        """The tools a model gets: the built-ins over `knowledge` (default: these notes) and the
        configured MCP servers' tools (their servers start on the first call), behind approval."""
        from llmorch.tools.defaults import build_default_registry

        registry = build_default_registry(
            self.settings, knowledge or self, note_roots=self.note_roots
        )
        registry.approval = self.approval
        for server_tool in await self._mcp_tools():
            registry.register(server_tool)
        if self._toolset is not None:
            registry.unavailable.update(self._toolset.failures)
        return registry

    async def _mcp_tools(self) -> list[Tool]:
        async with self._starting:
            if self._toolset is None and self.settings.mcp.servers:
                from llmorch.tools.mcp import McpToolset

                self._toolset = McpToolset(self.settings.mcp.servers)
                self._server_tools = await self._toolset.start()
        return self._server_tools

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await self.knowledge().search(request)

    def lend_knowledge_while_serving(self) -> None:
        """For a long-lived surface (serve, mcp), from now until `aclose`: the index stays open
        between calls, yet is closed whenever another process (an ingest) waits for it, so the
        shell is never locked out; the next search reopens it and sees the new notes."""
        if self._lender is None:
            self._lender = asyncio.create_task(self._lend_knowledge())

    async def _lend_knowledge(self) -> None:
        while True:
            await asyncio.sleep(YIELD_CHECK_S)
            if self._knowledge is not None:
                await self._knowledge.yield_to_waiting()

    async def release_knowledge(self) -> None:
        """Close the index between chat turns, so an ingest in another terminal is not blocked."""
        if self._knowledge is not None:
            knowledge, self._knowledge = self._knowledge, None
            await knowledge.aclose()

    async def aclose(self) -> None:
        if self._lender is not None:
            lender, self._lender = self._lender, None
            lender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lender
        if self._toolset is not None:
            toolset, self._toolset = self._toolset, None
            await toolset.aclose()
        await self.release_knowledge()
        if self._llm is not None:
            llm, self._llm = self._llm, None
            await llm.aclose()
