"""A workflow as data: a name, a description, typed input and output, and the pipeline that runs it.

Every surface (CLI, HTTP, MCP, chat, timers) lists, validates and runs workflows through this one
shape, so a built-in and a user's file behave the same everywhere.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from pydantic import BaseModel

from llmorch.llm.stream import ReasoningDelta, TextDelta
from llmorch.retrieval.hits import KnowledgeSearch
from llmorch.workflows.citations import SourceList

if TYPE_CHECKING:
    from llmorch.config import Settings
    from llmorch.llm.model import ChatModel
    from llmorch.pipeline import Pipeline
    from llmorch.tools.base import ToolRegistry

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

Delta = TextDelta | ReasoningDelta
OnDelta = Callable[[Delta], None]


class HasLlm(Protocol):
    """The slice of the Runtime a workflow step may use: settings, the model, the note folders,
    the tools (built-in and MCP) over a given view of the notes."""

    @property
    def settings(self) -> Settings: ...

    def llm(self) -> ChatModel: ...

    def note_roots(self) -> list[Path]: ...

    async def tool_registry(self, knowledge: KnowledgeSearch | None = None) -> ToolRegistry: ...


class WorkflowRuntime(HasLlm, KnowledgeSearch, Protocol):
    """What a workflow runs against: the model, the settings and the notes (the Runtime is one)."""


@dataclass
class WorkflowContext:
    """What a workflow's steps read: the model, the notes, where streamed text and progress go,
    and the sources found so far (numbered in the order they were found, across the whole run)."""

    runtime: HasLlm
    knowledge: KnowledgeSearch
    on_delta: OnDelta | None = None
    on_status: Callable[[str], None] | None = None
    stream: bool = True
    sources: SourceList = field(default_factory=SourceList)


@dataclass(frozen=True)
class Workflow(Generic[In, Out]):
    """A named, typed pipeline. `source` says where it came from ('builtin', a file, a package).

    `text_field` names the output field `llmorch run` prints as text on a terminal (an answer, a
    report); without it the output is printed as JSON.
    """

    name: str
    description: str
    input_model: type[In]
    output_model: type[Out]
    pipeline: Pipeline[In, Out, WorkflowContext]
    source: str = "builtin"
    text_field: str | None = None

    def definition_hash(self) -> str:
        """Changes when the name, schemas or steps change: run records tell versions apart."""
        digest = hashlib.sha256()
        for part in (
            self.name,
            schema_text(self.input_model),
            schema_text(self.output_model),
            self.pipeline.name,
            *self.pipeline.step_names,
        ):
            digest.update(part.encode())
        return digest.hexdigest()[:16]


@functools.cache
def schema_text(model: type[BaseModel]) -> str:
    """A model's JSON Schema as text, made once per class: building it takes milliseconds, and
    every run's record names its workflow's version by it."""
    return repr(model.model_json_schema())
