"""The tools every run gets, configured from settings: the same path the CLI and workflows use."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from llmorch.config import Settings
from llmorch.ingest.note_rule import NoteRule
from llmorch.retrieval.hits import KnowledgeSearch
from llmorch.tools.base import ToolRegistry
from llmorch.tools.knowledge import knowledge_tool
from llmorch.tools.notes import read_note_tool


def build_default_registry(
    settings: Settings,
    knowledge: KnowledgeSearch,
    *,
    note_roots: Callable[[], Sequence[Path]] | None = None,
) -> ToolRegistry:
    """`note_roots` names read_note's folders when it is called; default: the configured ones."""
    return ToolRegistry(
        [
            knowledge_tool(knowledge),
            read_note_tool(
                note_roots or settings.note_roots,
                max_bytes=settings.ingest.max_file_bytes,
                rule=NoteRule(settings.ingest.include, settings.ingest.exclude),
            ),
        ],
        timeout_s=settings.tools.timeout_s,
        max_result_chars=settings.tools.max_result_chars,
    )
