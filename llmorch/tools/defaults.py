"""The tools every run gets, configured from settings: the same path the CLI and workflows use.

Installed packages add theirs under the entry-point group `llmorch.tools`; one that fails to load,
or reuses a taken name, is logged and left out so the built-in tools keep working.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from llmorch.config import Settings
from llmorch.ingest.note_rule import NoteRule
from llmorch.logging import logger
from llmorch.plugins import TOOLS_GROUP, load_plugins
from llmorch.retrieval.hits import KnowledgeSearch
from llmorch.tools.base import Tool, ToolRegistry
from llmorch.tools.knowledge import knowledge_tool
from llmorch.tools.notes import read_note_tool


def build_default_registry(
    settings: Settings,
    knowledge: KnowledgeSearch,
    *,
    note_roots: Callable[[], Sequence[Path]] | None = None,
) -> ToolRegistry:
    """`note_roots` names read_note's folders when it is called; default: the configured ones."""
    registry = ToolRegistry(
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
    for plugin in load_plugins(TOOLS_GROUP, Tool):
        if plugin.error is not None:
            logger.warning("tools from {} left out: {}", plugin.source, plugin.error)
        for found in plugin.found:
            if found.name in registry:
                logger.warning("tool {!r} from {} left out: name taken", found.name, plugin.source)
            else:
                registry.register(found)
    return registry
