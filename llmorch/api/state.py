"""What the server's handlers share: settings, one Runtime (model client, index), the model gate."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from llmorch.api.gate import ModelGate
from llmorch.errors import RetrievalError
from llmorch.logging import Redactor
from llmorch.retrieval.hits import SearchHit, SearchRequest

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.retrieval.knowledge import KnowledgeBase
    from llmorch.workflows.registry import WorkflowRegistry
    from llmorch.workflows.runtime import Runtime


@dataclass
class ServerState:
    settings: Settings
    runtime: Runtime
    gate: ModelGate
    redact: Redactor
    _opening: asyncio.Lock = field(default_factory=asyncio.Lock)
    _registry: WorkflowRegistry | None = None

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

    async def knowledge_if_indexed(self) -> None:
        """Open the index off the event loop when there is one; a workflow that needs notes
        reports a missing index itself, one that does not (extract) runs without it."""
        with contextlib.suppress(RetrievalError):
            await self.knowledge()

    def registry(self) -> WorkflowRegistry:
        """Every workflow, discovered once (user files are imported at start, not per request)."""
        if self._registry is None:
            from llmorch.workflows.registry import WorkflowRegistry

            self._registry = WorkflowRegistry.discover(self.settings)
        return self._registry

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        return await (await self.knowledge()).search(request)

    def start(self) -> None:
        self.registry()
        self.runtime.lend_knowledge_while_serving()

    async def aclose(self) -> None:
        await self.runtime.aclose()
