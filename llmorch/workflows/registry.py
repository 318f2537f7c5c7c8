"""Every workflow a command can run: the built-ins, the user's files, and installed packages.

A user file declares workflows as module-level `Workflow(...)` objects; a package names a module
or a `Workflow` under the entry-point group `llmorch.workflows`. A file that fails to import, or a
name defined twice, is recorded as broken with its reason: it never stops the others from loading.
Only the commands that run or list workflows build a registry, so no other command imports user code.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
import traceback
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from llmorch.errors import UsageError
from llmorch.logging import logger
from llmorch.workflows.builtin import BUILTIN_MODULES
from llmorch.workflows.definition import Workflow

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from llmorch.config import Settings

ENTRY_POINT_GROUP = "llmorch.workflows"
USER_MODULE_PREFIX = "llmorch_user_workflows"
"""User files are imported as `llmorch_user_workflows.<stem>`, apart from any installed module."""

AnyWorkflow = Workflow[Any, Any]


@dataclass(frozen=True)
class BrokenWorkflow:
    """A source that could not give a workflow: where it is and why, in one line."""

    source: str
    reason: str
    name: str | None = None


class WorkflowRegistry:
    """Workflows by name, plus the sources that failed to load."""

    def __init__(self) -> None:
        self._workflows: dict[str, AnyWorkflow] = {}
        self._broken: list[BrokenWorkflow] = []

    @classmethod
    def builtins(cls) -> WorkflowRegistry:
        """Only the workflows that ship with llmorch: what `ask` and `chat` need, no user code."""
        registry = cls()
        for module_name in BUILTIN_MODULES:
            registry._add_module(importlib.import_module(module_name), "builtin")
        return registry

    @classmethod
    def discover(cls, settings: Settings) -> WorkflowRegistry:
        """The built-ins, then the user's files in `workflows.paths`, then installed packages;
        on a name clash the first one found wins and the later one is listed as broken."""
        registry = cls.builtins()
        for path in user_files(settings.workflows.search_paths()):
            registry._load_file(path)
        for entry_point in _entry_points(ENTRY_POINT_GROUP):
            registry._load_entry_point(entry_point)
        return registry

    def workflows(self) -> list[AnyWorkflow]:
        return sorted(self._workflows.values(), key=lambda w: w.name)

    def broken(self) -> list[BrokenWorkflow]:
        return list(self._broken)

    def names(self) -> list[str]:
        return sorted(self._workflows)

    def get(self, name: str) -> AnyWorkflow:
        """The workflow called `name`; a usage error naming close ones (or a broken source) if none."""
        if (found := self._workflows.get(name)) is not None:
            return found
        for broken in self._broken:
            if broken.name == name:
                raise UsageError(f"workflow {name!r} is broken: {broken.reason} ({broken.source})")
        close = difflib.get_close_matches(name, self.names(), n=3, cutoff=0.5)
        hint = (
            f"did you mean {', '.join(close)}?"
            if close
            else "see `llmorch workflows list` for the names"
        )
        raise UsageError(f"no workflow named {name!r}", hint=hint)

    def _load_file(self, path: Path) -> None:
        source = str(path)
        try:
            module = _import_file(path)
        except Exception as exc:  # a user's file may fail in any way: record it, load the rest
            self._broken.append(BrokenWorkflow(source, _one_line(exc)))
            logger.opt(exception=exc).info("workflow file {} does not import", source)
            return
        if not self._add_module(module, source):
            self._broken.append(BrokenWorkflow(source, "defines no Workflow at module level"))

    def _load_entry_point(self, entry_point: EntryPoint) -> None:
        source = f"{entry_point.dist.name if entry_point.dist else 'package'}:{entry_point.value}"
        try:
            loaded: object = entry_point.load()
        except Exception as exc:  # an installed plugin's bug must not break every command
            self._broken.append(BrokenWorkflow(source, _one_line(exc)))
            return
        if isinstance(loaded, ModuleType):
            if not self._add_module(loaded, source):
                self._broken.append(BrokenWorkflow(source, "defines no Workflow at module level"))
        elif isinstance(loaded, Workflow):
            self._add(replace(loaded, source=source))  # pyright: ignore[reportUnknownArgumentType]
        else:
            reason = f"entry point gives a {type(loaded).__name__}, not a Workflow or a module"
            self._broken.append(BrokenWorkflow(source, reason))

    def _add_module(self, module: ModuleType, source: str) -> bool:
        """Register every `Workflow` the module defines; False when it defines none."""
        found = list(_module_workflows(module))
        for workflow in found:
            self._add(workflow if source == "builtin" else replace(workflow, source=source))
        return bool(found)

    def _add(self, workflow: AnyWorkflow) -> None:
        existing = self._workflows.get(workflow.name)
        if existing is None:
            self._workflows[workflow.name] = workflow
            return
        if existing.pipeline is workflow.pipeline and existing.input_model is workflow.input_model:
            return  # the same workflow imported into another file: not a second definition
        reason = f"duplicate name {workflow.name!r}, already defined by {existing.source}"
        self._broken.append(BrokenWorkflow(workflow.source, reason, workflow.name))


def user_files(paths: Iterable[Path]) -> list[Path]:
    """The `.py` files the configured paths name: files as given, folders' direct children
    (not `_private.py` ones), in a stable order. A missing folder is just empty."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.glob("*.py") if not p.name.startswith("_")))
        elif path.is_file():
            files.append(path)
    return files


def _import_file(path: Path) -> ModuleType:
    name = f"{USER_MODULE_PREFIX}.{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: pydantic resolves a model's postponed annotations through it.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _module_workflows(module: ModuleType) -> Iterator[AnyWorkflow]:
    for value in vars(module).values():
        if isinstance(value, Workflow):
            yield value  # pyright: ignore[reportUnknownReturnType]


def _entry_points(group: str) -> list[EntryPoint]:
    from importlib.metadata import entry_points

    return sorted(entry_points(group=group), key=lambda ep: ep.name)


def _one_line(exc: BaseException) -> str:
    """`SyntaxError: invalid syntax (line 3)`: the last frame's message, without the traceback."""
    if isinstance(exc, SyntaxError):
        return f"SyntaxError: {exc.msg} (line {exc.lineno})"
    last = traceback.format_exception_only(exc)[-1].strip()
    return last.splitlines()[0] if last else type(exc).__name__
