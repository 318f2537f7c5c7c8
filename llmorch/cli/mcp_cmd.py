"""`llmorch mcp`: serve the notes, `ask` and the workflows to an MCP client over stdio."""

from __future__ import annotations

import typer

from llmorch.cli.state import AppState


def mcp(ctx: typer.Context) -> None:
    """Serve your notes, ask and workflows over MCP on stdin/stdout (an MCP client starts this).

    Logs go to stderr; stdout carries protocol messages only.

    Example: llmorch mcp   (in a client's config: {"command": "llmorch", "args": ["mcp"]})
    """
    import asyncio

    from llmorch.mcp.server import serve_stdio

    settings = ctx.ensure_object(AppState).settings
    asyncio.run(serve_stdio(settings))
