"""`llmorch serve`: the HTTP API, the OpenAI-compatible endpoint and webhooks, under uvicorn."""

from __future__ import annotations

import signal
from typing import Annotated

import typer

from llmorch.cli import render
from llmorch.cli.state import AppState


def serve(
    ctx: typer.Context,
    host: Annotated[
        str | None,
        typer.Option("--host", help="Address to bind (default server.host, 127.0.0.1)."),
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", "-p", min=1, max=65535, help="Port (default server.port, 8321)."),
    ] = None,
) -> None:
    """Serve llmorch over HTTP until stopped (Ctrl-C or SIGTERM finish what is in flight).

    Endpoints: /health, /ready, /api/query, /api/search, /api/workflows, /api/runs/ID,
    /v1/models, /v1/chat/completions (any OpenAI client), /hooks/NAME (signed webhooks), /mcp
    (MCP over streamable HTTP). Without server.api_keys only loopback may be bound.

    Example: llmorch serve --port 8321 · then
    curl -s localhost:8321/api/query -H 'Content-Type: application/json' -d '{"query": "backups?"}'
    """
    overrides: dict[str, object] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    state = ctx.ensure_object(AppState)
    settings = state.load({"server": overrides} if overrides else None).settings
    server = settings.server

    from llmorch.api.security import check_bind_address

    check_bind_address(server.host, server.keys())

    import uvicorn

    from llmorch.api.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        host=server.host,
        port=server.port,
        log_level="warning" if state.verbosity == 0 else "info",
        access_log=state.verbosity > 0,
        timeout_graceful_shutdown=int(server.shutdown_timeout_s),
        lifespan="on",
    )
    render.status(f"llmorch serving on http://{_shown(server.host)}:{server.port}")
    # uvicorn finishes in-flight requests on SIGTERM/SIGINT, then re-raises the signal; with these
    # handlers in place that re-raise is a no-op, so a clean stop exits 0 as systemd expects.
    for stop in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop, _stopped)
    uvicorn.Server(config).run()


def _stopped(signum: int, frame: object) -> None:
    """uvicorn has already shut down cleanly when the signal reaches this handler."""


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host
