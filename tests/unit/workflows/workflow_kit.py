"""Workflow test kit: the scripted model behind a runtime, and notes searched in memory.

Imported by the workflow tests (pytest puts this folder on sys.path)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from llmorch.config import LlmSettings, Settings
from llmorch.llm.model import ChatModel
from llmorch.llm.testing import ScriptedModel
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.workflows.definition import WorkflowContext


@dataclass
class ScriptedRuntime:
    """What a workflow step may use (HasLlm), with the scripted model and tmp note folders."""

    model: ScriptedModel
    roots: list[Path] = field(default_factory=list[Path])
    settings: Settings = field(default_factory=Settings)

    def llm(self) -> ChatModel:
        return self.model

    def note_roots(self) -> list[Path]:
        return self.roots


class NotesInMemory:
    """Answers each search with one passage per word of the query, and counts searches in flight."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.queries: list[str] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        self.queries.append(request.query)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.in_flight -= 1
        words = request.query.lower().rstrip("?").split()[: request.limit]
        return [
            SearchHit(
                path=f"{word}.md", title=word, heading="", snippet=word,
                text=f"Notes about {word}.", score=1.0,
            )
            for word in words
        ]  # fmt: skip


def context(
    model: ScriptedModel,
    *,
    notes: NotesInMemory | None = None,
    roots: list[Path] | None = None,
    context_length: int | None = None,
) -> WorkflowContext:
    settings = Settings()
    if context_length is not None:
        settings = Settings(llm=LlmSettings(context_length=context_length))
    runtime = ScriptedRuntime(model, roots or [], settings)
    return WorkflowContext(runtime=runtime, knowledge=notes or NotesInMemory(), stream=False)
