"""`llmorch tools`: list the tools a model can call, show one's JSON Schema, call one directly."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption
from llmorch.cli.state import AppState

if TYPE_CHECKING:
    from llmorch.tools.base import ToolRegistry
    from llmorch.workflows.runtime import Runtime

app = typer.Typer(help="Inspect and call the tools models can use.", no_args_is_help=True)


def _registry(ctx: typer.Context, collection: str | None = None) -> tuple[ToolRegistry, Runtime]:
    """The same registry `ask --mode agent` gives the model; the index opens only if a tool searches."""
    from llmorch.tools.defaults import build_default_registry
    from llmorch.workflows.runtime import Runtime

    settings = ctx.ensure_object(AppState).settings
    runtime = Runtime(settings, collection=collection)
    return build_default_registry(settings, runtime, note_roots=runtime.note_roots), runtime


@app.command("list")
def list_tools(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Every tool with its description and arguments.

    Example: llmorch tools list
    """
    registry, _ = _registry(ctx)
    definitions = registry.definitions()
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
    registry, _ = _registry(ctx)
    render.print_json(registry.get(name).definition().model_dump())


@app.command("run")
def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Tool name.", show_default=False)],
    args: Annotated[
        str, typer.Option("--args", "-a", help="Arguments as a JSON object.", show_default=False)
    ] = "{}",
    collection: CollectionOption = None,
) -> None:
    """Call a tool directly, with the same validation, timeout and size cap a model gets.

    Example: llmorch tools run search_knowledge_base --args '{"query": "backups", "limit": 3}'
    """
    import asyncio

    from llmorch.runs.observer import current_observer
    from llmorch.runs.recorder import RunRecorder

    arguments = _parse_args(args)
    registry, runtime = _registry(ctx, collection)
    registry.get(name)  # an unknown name is a ToolError listing the available tools

    async def call() -> Any:
        async with runtime:
            result = await registry.call(name, arguments)
            if (observer := current_observer()) is not None:
                observer.tool_call(result.record("cli"))
            return result

    recorder = RunRecorder(
        runtime.settings, workflow=f"tool:{name}", input={"tool": name, "arguments": arguments}
    )
    with recorder:
        result = asyncio.run(call()).raise_for_error()
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
