"""Tools a model can call: plain typed functions, a registry that validates and bounds each call,
and the built-in knowledge search and note reader."""

from typing import TYPE_CHECKING

from llmorch.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from llmorch.tools.base import Tool, ToolRegistry, ToolResult, tool
    from llmorch.tools.defaults import build_default_registry
    from llmorch.tools.definition import ToolDefinition
    from llmorch.tools.knowledge import knowledge_tool
    from llmorch.tools.notes import read_note_tool

__all__ = [
    "Tool",
    "ToolDefinition",
    "ToolRegistry",
    "ToolResult",
    "build_default_registry",
    "knowledge_tool",
    "read_note_tool",
    "tool",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "base": ["Tool", "ToolRegistry", "ToolResult", "tool"],
        "defaults": ["build_default_registry"],
        "definition": ["ToolDefinition"],
        "knowledge": ["knowledge_tool"],
        "notes": ["read_note_tool"],
    },
)
