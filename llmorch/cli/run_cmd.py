"""`llmorch run`: start any workflow by name with typed input from FIELD=VALUE pairs or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmorch.cli import render
from llmorch.cli.notifying import Notifier, NotifyOnFailureOption, NotifyOption
from llmorch.cli.options import CollectionOption, ModelOption
from llmorch.cli.state import AppState
from llmorch.errors import LlmorchError, UsageError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from llmorch.workflows.execute import WorkflowOutcome
    from llmorch.workflows.registry import AnyWorkflow
    from llmorch.workflows.runtime import Runtime


def run(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Workflow name (see `workflows list`).")],
    fields: Annotated[
        list[str] | None,
        typer.Argument(
            help="Input fields as FIELD=VALUE; repeat a list field to add items.",
            show_default=False,
        ),
    ] = None,
    input_json: Annotated[
        str | None,
        typer.Option(
            "--input",
            "-i",
            help="Input as a JSON object, @FILE holding one, or - for stdin; FIELD=VALUE wins.",
        ),
    ] = None,
    model: ModelOption = None,
    collection: CollectionOption = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print output, sources, timings, trace_id and run_id as JSON."),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the result to FILE instead of stdout.", dir_okay=False
        ),
    ] = None,
    notify: NotifyOption = None,
    notify_on_failure: NotifyOnFailureOption = None,
) -> None:
    """Run a workflow with typed input; a live view shows its steps on a terminal.

    Examples: llmorch run qa query="when do backups run?" tags=homelab ·
    llmorch run qa --input '{"query": "restic"}' --json ·
    llmorch run digest --notify phone --notify-on-failure mail
    """
    import asyncio

    from llmorch.workflows.execute import validate_input
    from llmorch.workflows.field_pairs import parse_fields
    from llmorch.workflows.registry import WorkflowRegistry
    from llmorch.workflows.runtime import Runtime

    settings = ctx.ensure_object(AppState).settings
    with Notifier(settings, name, notify, notify_on_failure) as notifier:
        workflow = WorkflowRegistry.discover(settings).get(name)
        raw = {**read_input(input_json), **parse_fields(workflow.input_model, fields or [])}
        validated = validate_input(workflow, raw)
        try:
            runtime = Runtime(settings, model=model, collection=collection, on_note=render.note)
            outcome = asyncio.run(_run(workflow, validated, runtime))
        except (LlmorchError, KeyboardInterrupt) as exc:
            if as_json:
                render.print_json(_failure(workflow.name, exc))
            raise
        text = _result_text(workflow, outcome, as_json=as_json or output is not None)
        if output is not None:
            output.write_text(text, encoding="utf-8")
            render.status(f"wrote {output}")
        elif as_json:
            render.plain(text)
        else:
            render.workflow_output(text, _sources(outcome))
        result = _result_text(workflow, outcome, as_json=False)
        notifier.succeeded(result, outcome.run_id, _sources(outcome))


async def _run(workflow: AnyWorkflow, inp: BaseModel, runtime: Runtime) -> WorkflowOutcome[Any]:
    from llmorch.pipeline.events import listening_to_steps
    from llmorch.workflows.execute import run_workflow

    async with runtime:
        with render.StepView() as view, listening_to_steps(view):
            return await run_workflow(
                workflow, inp, runtime, trigger="cli", on_status=render.status, stream=False
            )


def _result_text(workflow: AnyWorkflow, outcome: WorkflowOutcome[Any], *, as_json: bool) -> str:
    """The text field as it is (a report, an answer), else the JSON envelope of the run."""
    if workflow.text_field is not None and not as_json:
        return str(getattr(outcome.output, workflow.text_field))
    envelope = {**outcome.to_json(), "exit_code": 0}
    return json.dumps(envelope, ensure_ascii=False, indent=2, default=str)


def _sources(outcome: WorkflowOutcome[Any]) -> list[Any]:
    """The output's own sources (they know which were cited), else every source the run found."""
    own: object = getattr(outcome.output, "sources", None)
    return own if isinstance(own, list) else outcome.sources  # pyright: ignore[reportUnknownVariableType]


def _failure(workflow: str, exc: LlmorchError | KeyboardInterrupt) -> dict[str, Any]:
    from llmorch.errors import InterruptedRunError
    from llmorch.logging import current_trace_id

    error = exc if isinstance(exc, LlmorchError) else InterruptedRunError("interrupted")
    return {
        "workflow": workflow,
        "output": None,
        "trace_id": current_trace_id() or "",
        "run_id": error.run_id,
        "kind": error.kind,
        "error": str(error),
        "exit_code": error.exit_code,
    }


def read_input(value: str | None) -> dict[str, Any]:
    """`--input`: inline JSON, `@file.json`, or `-` for stdin; it must hold one JSON object."""
    if value is None:
        return {}
    if value == "-":
        text, where = sys.stdin.read(), "stdin"
    elif value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            text, where = path.read_text(encoding="utf-8"), str(path)
        except OSError as exc:
            raise UsageError(f"cannot read --input file {path}: {exc.strerror}") from exc
    else:
        text, where = value, "--input"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    if not isinstance(data, dict):
        raise UsageError(f'{where} must hold a JSON object, e.g. {{"query": "..."}}')
    return data  # pyright: ignore[reportUnknownVariableType]
