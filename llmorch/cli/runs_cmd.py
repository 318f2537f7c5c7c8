"""`llmorch runs`: the record of every run — list and search them, show one's tree, export, prune."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar

import typer

from llmorch.cli import render, render_runs
from llmorch.cli.state import AppState
from llmorch.errors import RunRecordsError

if TYPE_CHECKING:
    from llmorch.runs.store import RunStore

app = typer.Typer(
    help="The record of every run: list, search, show, export, prune.", no_args_is_help=True
)

_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

_T = TypeVar("_T")

RunIdArgument = Annotated[
    str, typer.Argument(help="Run id, or its first characters.", show_default=False)
]


def parse_age(text: str, option: str) -> float:
    """`90s`, `30m`, `12h`, `2d`, `1w` as seconds."""
    match = _AGE.match(text)
    if match is None:
        raise typer.BadParameter(
            f"{text!r} is not an age like 30m, 12h, 2d or 1w", param_hint=f"'{option}'"
        )
    return float(match.group(1)) * _SECONDS[match.group(2)]


def _store(ctx: typer.Context) -> RunStore:
    from llmorch.runs.store import RunStore

    ctx.ensure_object(AppState).load()  # logging configured, as for every command
    return RunStore()


def _reading(store: RunStore, action: Callable[[], _T]) -> _T:
    """Run a read; a database that cannot be read is one RunRecordsError naming the file."""
    import sqlite3

    try:
        return action()
    except (sqlite3.Error, OSError) as exc:
        raise RunRecordsError(
            f"cannot read run records at {store.path}: {exc}",
            hint="move the file aside to start a new record",
        ) from exc
    finally:
        store.close()


def _resolve(store: RunStore, prefix: str) -> dict[str, Any]:
    ids = store.resolve(prefix)
    if not ids:
        raise RunRecordsError(f"no run with id {prefix!r}", hint="see `llmorch runs list`")
    if len(ids) > 1:
        raise RunRecordsError(f"{prefix!r} matches several runs; give more characters")
    record = store.get(ids[0])
    assert record is not None  # resolved just now; retention runs only when a run is written
    return record


@app.command("list")
def list_runs(
    ctx: typer.Context,
    workflow: Annotated[
        str | None, typer.Option("--workflow", "-w", help="Only runs of this workflow.")
    ] = None,
    status: Annotated[
        Literal["running", "ok", "failed", "cancelled", "interrupted"] | None,
        typer.Option("--status", "-s", help="Only runs that ended so."),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="Only runs started within, e.g. 2d, 12h, 30m.")
    ] = None,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="Full-text search over inputs and outputs."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Most runs shown.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Recent runs, newest first.

    Examples: llmorch runs list --status failed --since 2d ·
    llmorch runs list -q restic --json
    """
    from llmorch.runs.store import RunFilter

    since_at = None if since is None else time.time() - parse_age(since, "--since")
    store = _store(ctx)
    query_filter = RunFilter(workflow, status, since_at, query, limit)
    runs = _reading(store, lambda: store.list(query_filter))
    if as_json:
        render.print_json(runs)
        return
    render_runs.runs_table(runs)


@app.command("show")
def show(
    ctx: typer.Context,
    run_id: RunIdArgument,
    as_json: Annotated[bool, typer.Option("--json", help="The whole record as JSON.")] = False,
) -> None:
    """One run as a tree: steps, model calls, tool calls and the passages retrieved.

    Example: llmorch runs show 01JD3
    """
    store = _store(ctx)
    record = _reading(store, lambda: _resolve(store, run_id))
    if as_json:
        render.print_json(record)
        return
    render_runs.run_tree(record)


@app.command("rerun")
def rerun(
    ctx: typer.Context,
    run_id: RunIdArgument,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the new run's output as JSON.")
    ] = False,
) -> None:
    """Run the same workflow with the same input again, as a new run linked to the old one.

    Example: llmorch runs rerun 01JD3
    """
    import asyncio
    import json

    from llmorch.workflows.execute import run_workflow
    from llmorch.workflows.registry import WorkflowRegistry
    from llmorch.workflows.runtime import Runtime

    store = _store(ctx)
    old = _reading(store, lambda: _resolve(store, run_id))
    settings = ctx.ensure_object(AppState).settings
    registry = WorkflowRegistry.discover(settings)
    if old["workflow"] not in {w.name for w in registry.workflows()}:
        raise RunRecordsError(
            f"run {old['id']} ran {old['workflow']!r}, which is not a workflow that can be rerun"
        )
    if old["input"] is None:
        raise RunRecordsError(
            f"run {old['id']} has no input recorded (runs.store_content was false)"
        )
    workflow = registry.get(old["workflow"])

    async def again() -> Any:
        runtime = Runtime(settings)
        async with runtime:
            return await run_workflow(
                workflow, old["input"], runtime, trigger="cli", stream=False, parent_id=old["id"]
            )

    outcome = asyncio.run(again())
    output = outcome.output.model_dump(mode="json")
    if as_json:
        render.print_json({"run_id": outcome.run_id, "rerun_of": old["id"], "output": output})
        return
    render.plain(json.dumps(output, ensure_ascii=False, indent=2))
    render.status(f"run {outcome.run_id}, a rerun of {old['id']}")


@app.command("export")
def export(
    ctx: typer.Context,
    run_id: RunIdArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
) -> None:
    """The whole record of one run as JSON, to keep or to attach to a bug report.

    Example: llmorch runs export 01JD3 -o run.json
    """
    import json

    store = _store(ctx)
    record = _reading(store, lambda: _resolve(store, run_id))
    if output is None:
        render.print_json(record)
        return
    text = json.dumps(record, ensure_ascii=False, indent=2, default=str) + "\n"
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise RunRecordsError(f"cannot write {output}: {exc.strerror or exc}") from exc
    render.status(f"wrote run {record['id']} to {output}")


@app.command("prune")
def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Delete runs started longer ago than this.")
    ] = "30d",
) -> None:
    """Delete old runs now (runs.max_age_days and runs.max_runs also prune as runs are written).

    Example: llmorch runs prune --older-than 7d
    """
    seconds = parse_age(older_than, "--older-than")
    store = _store(ctx)
    removed = _reading(store, lambda: store.prune(seconds))
    render.status(f"deleted {removed} run{'' if removed == 1 else 's'} older than {older_than}")
