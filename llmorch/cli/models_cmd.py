"""`llmorch models`: each model profile, whether its server answers, and what it offers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from llmorch.cli import render
from llmorch.cli.state import AppState


def models(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Check every model profile at once: reachable or why not, latency, models, capabilities.

    Exits 4 when no profile answers.

    Example: llmorch models --json
    """
    import asyncio

    from llmorch.errors import LlmUnreachableError
    from llmorch.llm.health import check_profiles

    settings = ctx.ensure_object(AppState).settings
    checks = asyncio.run(check_profiles(settings))
    if as_json:
        render.print_json(
            [{**asdict(c), "capabilities": c.capabilities.model_dump()} for c in checks]
        )
    else:
        render.profiles_table(checks)
    if not any(c.reachable for c in checks):
        raise LlmUnreachableError("no model profile answered", hint="start a model server")
