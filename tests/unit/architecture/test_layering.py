"""The layering the README promises, checked on every module, new packages included."""

from __future__ import annotations

import import_graph
import pytest

UI_LIBRARIES = ("typer", "rich", "prompt_toolkit", "click")
"""Terminal UI libraries: only the command line draws a terminal."""

CLI_SURFACE = ("llmorch.cli", "llmorch.__main__")


def test_no_import_cycle_between_llmorch_modules() -> None:
    assert import_graph.cycles(import_graph.graph()) == []


def test_no_import_cycle_between_llmorch_packages() -> None:
    edges = import_graph.package_graph(import_graph.graph())
    assert import_graph.cycles(edges) == []


def test_nothing_outside_the_cli_imports_a_terminal_ui_library() -> None:
    known = import_graph.modules()
    offending = [
        f"{imp.importer}:{imp.line} imports {imp.imported}"
        for imp in import_graph.imports(known)
        if import_graph.package_of(imp.importer) not in CLI_SURFACE
        and imp.imported.split(".")[0] in UI_LIBRARIES
    ]
    assert offending == []


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
        ({"a": {"b"}, "b": set()}, []),
    ],
)
def test_the_cycle_finder_finds_a_loop_through_lazy_and_type_only_imports(
    edges: dict[str, set[str]], expected: list[list[str]]
) -> None:
    assert import_graph.cycles(edges) == expected


def test_every_kind_of_import_is_in_the_graph() -> None:
    """A function-level import (open_store's backends) and a TYPE_CHECKING one (loop's registry)."""
    edges = import_graph.graph()
    assert "llmorch.retrieval.edge" in edges["llmorch.retrieval.backend"]
    assert "llmorch.tools.base" in edges["llmorch.llm.loop"]
