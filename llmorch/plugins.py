"""What installed packages add to llmorch through entry points: workflows and tools.

An entry point names an object of the wanted kind, or a module whose module-level objects of that
kind are all taken. A package that fails to load is reported, never raised: one broken plugin
must not stop a command.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Generic, TypeVar

T = TypeVar("T")

WORKFLOWS_GROUP = "llmorch.workflows"
TOOLS_GROUP = "llmorch.tools"


@dataclass(frozen=True)
class Plugin(Generic[T]):
    """What one entry point gave: its objects, or why it gave none."""

    source: str
    found: list[T]
    error: str | None = None


def load_plugins(group: str, kind: type[T]) -> Iterator[Plugin[T]]:
    """Each entry point of `group`, in name order, loaded and searched for `kind` objects."""
    from importlib.metadata import entry_points

    for entry_point in sorted(entry_points(group=group), key=lambda ep: ep.name):
        source = f"{entry_point.dist.name if entry_point.dist else 'package'}:{entry_point.value}"
        try:
            loaded: object = entry_point.load()
        except Exception as exc:  # an installed plugin's bug must not break every command
            yield Plugin(source, [], one_line(exc))
            continue
        if isinstance(loaded, ModuleType):
            found = module_objects(loaded, kind)
            yield Plugin(source, found, None if found else f"defines no {kind.__name__}")
        elif isinstance(loaded, kind):
            yield Plugin(source, [loaded])
        else:
            error = f"gives a {type(loaded).__name__}, not a {kind.__name__} or a module"
            yield Plugin(source, [], error)


def module_objects(module: ModuleType, kind: type[T]) -> list[T]:
    """Every module-level object of `kind`, in definition order."""
    return [value for value in vars(module).values() if isinstance(value, kind)]


def one_line(exc: BaseException) -> str:
    """`SyntaxError: invalid syntax (line 3)`: the exception's own message, without the traceback."""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    last = traceback.format_exception_only(exc)[-1].strip()
    return last.splitlines()[0] if last else type(exc).__name__
