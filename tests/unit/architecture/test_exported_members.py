"""Each package's public names, pinned: adding or dropping one is a decision, made here on purpose.

Names are exported lazily (llmorch/lazy_exports.py), so these tests also check that every name
resolves, that pyright's view (the TYPE_CHECKING imports) matches `__all__`, and that importing a
package loads nothing heavy.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import import_graph
import pytest

EXPORTS = {
    "llmorch.channels": ["TelegramBot"],
    "llmorch.ingest": ["FileIssue", "IngestProgress", "IngestSummary", "NoteRule", "ingest"],
    "llmorch.llm": [
        "AssistantMessage",
        "ChatModel",
        "Completion",
        "JsonSchemaFormat",
        "LlmClient",
        "LoopResult",
        "Message",
        "ModelCapabilities",
        "ReasoningDelta",
        "StreamDone",
        "StreamEvent",
        "SystemMessage",
        "TextDelta",
        "ToolCall",
        "ToolLoop",
        "ToolMessage",
        "Usage",
        "UserMessage",
    ],
    "llmorch.pipeline": [
        "NO_RETRY",
        "Failure",
        "Pipeline",
        "RetryPolicy",
        "Step",
        "StepError",
        "StepFailedError",
        "StepFailure",
        "StepMeta",
        "StepResult",
        "Success",
        "step",
    ],
    "llmorch.retrieval": [
        "KnowledgeBase",
        "KnowledgeSearch",
        "SearchHit",
        "SearchRequest",
        "VectorStore",
        "open_store",
    ],
    "llmorch.tools": [
        "Tool",
        "ToolDefinition",
        "ToolRegistry",
        "ToolResult",
        "build_default_registry",
        "knowledge_tool",
        "read_note_tool",
        "tool",
    ],
    "llmorch.workflows": [
        "AskRequest",
        "AskResult",
        "Runtime",
        "Workflow",
        "WorkflowContext",
        "WorkflowOutcome",
        "WorkflowRegistry",
        "run_ask",
        "run_workflow",
    ],
}

HEAVY = ("openai", "qdrant_edge", "qdrant_client", "httpx2", "rich", "typer", "telegram")


@pytest.mark.parametrize("package", sorted(EXPORTS))
def test_each_package_exports_exactly_its_public_names(package: str) -> None:
    module = importlib.import_module(package)
    assert sorted(module.__all__) == sorted(EXPORTS[package])
    for name in module.__all__:
        assert getattr(module, name) is not None, name
    assert set(module.__all__) <= set(dir(module))


def _packages_with_all() -> list[str]:
    return sorted(
        name
        for name, path in import_graph.modules().items()
        if path.name == "__init__.py" and "__all__" in path.read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("package", _packages_with_all())
def test_what_pyright_sees_is_what_all_says(package: str) -> None:
    """The names imported for pyright (under TYPE_CHECKING, or eagerly) are exactly `__all__`."""
    path = import_graph.modules()[package]
    imported = {
        alias.asname or alias.name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(package + ".")
        for alias in node.names
    }
    assert sorted(imported) == sorted(importlib.import_module(package).__all__)


def test_an_unknown_name_is_an_attribute_error() -> None:
    import llmorch.llm

    with pytest.raises(AttributeError, match="has no attribute 'NoSuchThing'"):
        _ = llmorch.llm.NoSuchThing  # type: ignore[attr-defined]


def test_importing_every_package_loads_no_heavy_library() -> None:
    packages = ", ".join(sorted(EXPORTS))
    heavy = ", ".join(repr(m) for m in HEAVY)
    code = f"import sys, {packages}\nprint([m for m in ({heavy},) if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).parent,
    )
    assert out.stdout.strip() == "[]"
