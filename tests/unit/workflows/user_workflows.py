"""Workflow files as a user writes them, for the registry and `run` tests to load from disk."""

from __future__ import annotations

from pathlib import Path

GREET = """
from pydantic import BaseModel, Field

from llmorch.pipeline import Pipeline, step
from llmorch.workflows.definition import Workflow, WorkflowContext


class Greeting(BaseModel):
    name: str
    times: int = Field(default=1, ge=1)
    tags: list[str] = Field(default_factory=list)


class Greeted(BaseModel):
    text: str
    tags: list[str]


@step
async def greet(inp: Greeting, ctx: WorkflowContext) -> Greeted:
    return Greeted(text=" ".join([f"hello {inp.name}"] * inp.times), tags=inp.tags)


@step
async def shout(done: Greeted, ctx: WorkflowContext) -> Greeted:
    return done.model_copy(update={"text": done.text.upper()})


GREET = Workflow(
    name="{name}",
    description="Greets someone loudly.",
    input_model=Greeting,
    output_model=Greeted,
    pipeline=Pipeline.create(greet, context=WorkflowContext, name="{name}").pipe(shout),
    text_field="text",
)
"""

RAISES = """
from pydantic import BaseModel

from llmorch.errors import ToolError
from llmorch.pipeline import Pipeline, step
from llmorch.workflows.definition import Workflow, WorkflowContext


class Empty(BaseModel):
    pass


@step
async def divide(inp: Empty, ctx: WorkflowContext) -> Empty:
    return Empty.model_validate({{"x": 1 / 0}})


@step
async def call_tool(inp: Empty, ctx: WorkflowContext) -> Empty:
    raise ToolError("tool 'weather' timed out after 30s")


BUGGY = Workflow(
    name="buggy", description="Divides by zero.", input_model=Empty, output_model=Empty,
    pipeline=Pipeline.create(divide, context=WorkflowContext, name="buggy"),
)
TOOL_FAILS = Workflow(
    name="tool_fails", description="Its tool times out.", input_model=Empty, output_model=Empty,
    pipeline=Pipeline.create(call_tool, context=WorkflowContext, name="tool_fails"),
)
"""


def write_greet(folder: Path, name: str = "greet", file: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file or f"{name}.py")
    path.write_text(GREET.replace("{name}", name), encoding="utf-8")
    return path


def write_raises(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "raises.py"
    path.write_text(RAISES.replace("{{", "{").replace("}}", "}"), encoding="utf-8")
    return path
