"""What the server's handlers share: settings, one Runtime (model client, index), the model gate."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmorch.api.gate import ModelGate
from llmorch.logging import Redactor
from llmorch.retrieval.hits import SearchHit, SearchRequest

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.retrieval.knowledge import KnowledgeBase
    from llmorch.workflows.runtime import Runtime

_YIELD_CHECK_S = 0.2  # how soon a waiting ingest gets the index when no search comes by


@dataclass
class ServerState:
    settings: Settings
    runtime: Runtime
    gate: ModelGate
    redact: Redactor
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    _watcher: asyncio.Task[None] | None = None

    @classmethod
    def create(cls, settings: Settings) -> ServerState:
        from llmorch.workflows.runtime import Runtime

        server = settings.server
        return cls(
            settings=settings,
            runtime=Runtime(settings),
            gate=ModelGate(server.max_in_flight, server.queue_timeout_s),
            redact=Redactor(settings.secret_values()),
        )

    async def knowledge(self) -> KnowledgeBase:
        """The index, opened in a worker thread (opening may wait for an ingest to finish)."""
        async with self._opening:
            return await asyncio.to_thread(self.runtime.knowledge)

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await (await self.knowledge()).search(request)

    def start(self) -> None:
        self._watcher = asyncio.create_task(self._yield_to_ingest())

    async def aclose(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.runtime.aclose()

    async def _yield_to_ingest(self) -> None:
        """Between requests nobody searches, so this lets a waiting `llmorch ingest` in."""
        while True:
            await asyncio.sleep(_YIELD_CHECK_S)
            knowledge = self.runtime.opened_knowledge()
            if knowledge is not None:
                await knowledge.yield_to_waiting()
