"""`llmorch workflows`: the workflows `run` can start, and what one takes, returns and does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmorch.cli import render
from llmorch.cli.state import AppState

if TYPE_CHECKING:
    from llmorch.workflows.registry import AnyWorkflow, WorkflowRegistry

app = typer.Typer(
    help="List and inspect the workflows `llmorch run` can start.", no_args_is_help=True
)


def registry(ctx: typer.Context) -> WorkflowRegistry:
    """Built-ins, the files in workflows.paths and installed packages' workflows."""
    from llmorch.workflows.registry import WorkflowRegistry

    return WorkflowRegistry.discover(ctx.ensure_object(AppState).settings)


@app.command("list")
def list_workflows(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Every workflow with its description and source; broken files are listed with the reason.

    Example: llmorch workflows list
    """
    found = registry(ctx)
    if as_json:
        render.print_json(
            {
                "workflows": [
                    {"name": w.name, "description": w.description, "source": w.source}
                    for w in found.workflows()
                ],
                "broken": [
                    {"source": b.source, "name": b.name, "reason": b.reason} for b in found.broken()
                ],
            }
        )
        return
    render.workflows_table(found.workflows(), found.broken())


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Workflow name.", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """A workflow's description, input and output JSON Schema, and its steps.

    Example: llmorch workflows show qa
    """
    details = describe(registry(ctx).get(name))
    if as_json:
        render.print_json(details)
        return
    render.workflow_details(details)


def describe(workflow: AnyWorkflow) -> dict[str, Any]:
    return {
        "name": workflow.name,
        "description": workflow.description,
        "source": workflow.source,
        "steps": list(workflow.pipeline.step_names),
        "input_schema": workflow.input_model.model_json_schema(),
        "output_schema": workflow.output_model.model_json_schema(),
        "definition_hash": workflow.definition_hash(),
    }
