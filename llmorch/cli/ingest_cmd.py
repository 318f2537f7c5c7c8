"""`llmorch ingest`: bring the index in line with the notes on disk, with a progress bar and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption
from llmorch.cli.state import AppState
from llmorch.errors import IngestError


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Folders or files to index (default: ingest.paths).", show_default=False
        ),
    ] = None,
    collection: CollectionOption = None,
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild the collection from scratch.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would change; write nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Index markdown notes; unchanged files cost only a hash check.

    Example: llmorch ingest ~/vault --dry-run
    """
    import asyncio

    from llmorch.ingest.sync import ingest as run_ingest
    from llmorch.runs.recorder import RunRecorder

    settings = ctx.ensure_object(AppState).settings
    sources = list(paths or settings.ingest.paths)
    if not sources:
        raise IngestError(
            "no PATH given and ingest.paths is empty",
            hint="run `llmorch ingest ~/vault` or set ingest.paths in the config",
        )
    run_input = {
        "paths": [str(p) for p in sources], "collection": collection, "full": full,
        "dry_run": dry_run,
    }  # fmt: skip
    recorder = RunRecorder(settings, workflow="ingest", input=run_input)
    with recorder, render.IngestProgressBar() as bar:
        summary = asyncio.run(
            run_ingest(
                sources,
                settings,
                collection=collection,
                full=full,
                dry_run=dry_run,
                on_progress=lambda event: bar.update(
                    event.done, event.total, event.path, event.chunks_per_s
                ),
            )
        )
        recorder.output = summary
    if as_json:
        render.print_json(summary.model_dump(mode="json"))
        return
    render.ingest_summary(summary)
