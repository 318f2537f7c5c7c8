"""`llmorch tools`: list the tools a model can call (MCP servers' included), show one's JSON Schema,
call one directly."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption, YesOption
from llmorch.cli.state import AppState

if TYPE_CHECKING:
    from llmorch.tools.base import ToolRegistry

app = typer.Typer(help="Inspect and call the tools models can use.", no_args_is_help=True)

_T = TypeVar("_T")


def _with_registry(
    ctx: typer.Context,
    use: Callable[[ToolRegistry], Awaitable[_T]],
    *,
    collection: str | None = None,
    yes: bool = False,
) -> _T:
    """Run `use` on the registry `ask --mode agent` gives the model, MCP servers started and then
    stopped around it; the index opens only if a tool searches."""
    import asyncio

    from llmorch.cli.approval import terminal_approver
    from llmorch.workflows.runtime import Runtime

    settings = ctx.ensure_object(AppState).settings
    runtime = Runtime(
        settings, collection=collection, ask_approval=terminal_approver(), assume_yes=yes
    )

    async def run() -> _T:
        async with runtime:
            registry = await runtime.tool_registry()
            for source, reason in registry.unavailable.items():
                render.status(f"{source} unavailable: {reason}")
            return await use(registry)

    return asyncio.run(run())


async def _definitions(registry: ToolRegistry) -> Any:
    return registry.definitions()


@app.command("list")
def list_tools(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Every tool with its description and arguments.

    Example: llmorch tools list
    """
    definitions = _with_registry(ctx, _definitions)
    if as_json:
        render.print_json([d.model_dump() for d in definitions])
        return
    render.tools_table(definitions)


@app.command("show")
def show(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="Tool name.", show_default=False)]
) -> None:
    """A tool's description and the JSON Schema of its arguments, as the model receives them.

    Example: llmorch tools show search_knowledge_base
    """

    async def show_one(registry: ToolRegistry) -> Any:
        return registry.get(name).definition().model_dump()

    render.print_json(_with_registry(ctx, show_one))


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tool name.", show_default=False)],
    args: Annotated[
        str, typer.Option("--args", "-a", help="Arguments as a JSON object.", show_default=False)
    ] = "{}",
    collection: CollectionOption = None,
    yes: YesOption = False,
) -> None:
    """Call a tool directly, with the same validation, approval, timeout and size cap a model gets.

    Example: llmorch tools run search_knowledge_base --args '{"query": "backups", "limit": 3}'
    """
    from llmorch.runs.observer import current_observer
    from llmorch.runs.recorder import RunRecorder

    arguments = _parse_args(args)

    settings = ctx.ensure_object(AppState).settings

    async def call(registry: ToolRegistry) -> Any:
        registry.get(name)  # an unknown name is a ToolError listing the available tools
        result = await registry.call(name, arguments)
        if (observer := current_observer()) is not None:
            observer.tool_call(result.record("cli"))
        return result.raise_for_error()

    recorder = RunRecorder(
        settings, workflow=f"tool:{name}", input={"tool": name, "arguments": arguments}
    )
    with recorder:
        result = _with_registry(ctx, call, collection=collection, yes=yes)
        recorder.output = result.content
    if isinstance(result.value, str) or result.truncated:
        render.plain(result.content)
    else:
        render.print_json(json.loads(result.content))


def _parse_args(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc.msg}", param_hint="'--args'") from exc
    if not isinstance(value, dict):
        raise typer.BadParameter(
            'must be a JSON object, e.g. \'{"query": "x"}\'', param_hint="'--args'"
        )
    return value  # pyright: ignore[reportUnknownVariableType]
