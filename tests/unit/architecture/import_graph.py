"""llmorch's own import graph, read from the source (AST), so no module has to be imported.

Every import counts: at module level, inside functions (the lazy imports that keep start-up fast)
and under `if TYPE_CHECKING:`. A lazy or type-only import still ties the two modules together:
neither can be understood, moved or tested without the other, so a cycle through one is a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "llmorch"
ROOT = Path(__file__).resolve().parents[3] / PACKAGE


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def imports(known: dict[str, Path]) -> Iterator[Import]:
    """Every import statement anywhere in every module, resolved to the module it loads."""
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield Import(name, alias.name, node.lineno)
            elif isinstance(node, ast.ImportFrom):
                base = _absolute(node, name, is_package)
                for alias in node.names:
                    # `from llmorch.llm import client` loads a module; `... import LlmClient` a name.
                    full = f"{base}.{alias.name}"
                    yield Import(name, full if full in known else base, node.lineno)


def _absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    package = importer if is_package else importer.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def graph() -> dict[str, set[str]]:
    """Module → the llmorch modules it imports."""
    known = modules()
    edges: dict[str, set[str]] = {name: set() for name in known}
    for imp in imports(known):
        if imp.imported in known and imp.imported != imp.importer:
            edges[imp.importer].add(imp.imported)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(edges[node]):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def package_graph(edges: dict[str, set[str]]) -> dict[str, set[str]]:
    """The same graph between llmorch's parts: each subpackage is one node (`llmorch.llm`), each
    top-level module its own (`llmorch.config`). Two packages that import each other are one
    layer pretending to be two, even when no single pair of modules closes the loop."""
    collapsed: dict[str, set[str]] = {}
    for module, targets in edges.items():
        part = package_of(module)
        collapsed.setdefault(part, set()).update(
            package_of(t) for t in targets if package_of(t) != part
        )
    return collapsed


def package_of(module: str) -> str:
    return ".".join(module.split(".")[:2])
