"""The MCP server over llmorch's published tools and notes, for stdio (`llmorch mcp`) and for
streamable HTTP (`http_app`, which `serve` mounts at /mcp).

A tool that fails answers as an MCP tool error carrying the one line the CLI would print; an
unknown tool is a protocol error. The index stays open between calls (reopening it costs more
than a search) and is lent to any process that waits for it, as `serve` does, so an ingest in
another terminal is never blocked by a long-lived server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from llmorch import __version__
from llmorch.errors import LlmorchError
from llmorch.ingest.note_rule import NoteRule
from llmorch.mcp.notes import note_files, read_note_resource

if TYPE_CHECKING:
    import mcp_types
    from mcp.server.lowlevel import Server
    from starlette.applications import Starlette

    from llmorch.config import Settings
    from llmorch.tools.base import ToolRegistry
    from llmorch.workflows.runtime import Runtime

RESOURCE_NOT_FOUND = -32002
"""The MCP specification's error code for a resource URI that names nothing readable."""
MAX_CALLS_IN_FLIGHT = 4
"""Calls beyond this wait: a local model serves one request at a time anyway."""


class Surface:
    """What the server serves from: one Runtime and the published registry, shared by every
    session of this process."""

    def __init__(self, settings: Settings) -> None:
        from llmorch.mcp.published import published_registry
        from llmorch.workflows.runtime import Runtime

        self.runtime: Runtime = Runtime(settings)
        self.registry: ToolRegistry = published_registry(self.runtime)
        self._slots = asyncio.Semaphore(MAX_CALLS_IN_FLIGHT)

    @asynccontextmanager
    async def calling(self) -> AsyncGenerator[None]:
        """Every tool call and resource read runs inside this: the one place a call is bounded."""
        async with self._slots:
            yield

    async def aclose(self) -> None:
        await self.runtime.aclose()


def build_server(surface: Surface) -> Server[Any]:
    """The low-level SDK server: the registry's schemas are published as they are."""
    from mcp.server.lowlevel import Server

    return Server(
        "llmorch",
        version=__version__,
        instructions="Search, read and ask about the user's markdown notes; run their workflows.",
        on_list_tools=lambda ctx, params: _list_tools(surface),
        on_call_tool=lambda ctx, params: _call_tool(surface, params),
        on_list_resources=lambda ctx, params: _list_resources(surface),
        on_read_resource=lambda ctx, params: _read_resource(surface, params),
    )


async def _list_tools(surface: Surface) -> mcp_types.ListToolsResult:
    import mcp_types

    tools = [
        mcp_types.Tool(
            name=t.name,
            description=t.description,
            input_schema=t.definition().parameters,
            annotations=mcp_types.ToolAnnotations(
                read_only_hint=t.read_only, destructive_hint=not t.read_only
            ),
        )
        for t in surface.registry
    ]
    return mcp_types.ListToolsResult(tools=tools)


async def _call_tool(
    surface: Surface, params: mcp_types.CallToolRequestParams
) -> mcp_types.CallToolResult:
    import mcp_types
    from mcp.shared.exceptions import MCPError

    if params.name not in surface.registry:
        raise MCPError(mcp_types.INVALID_PARAMS, f"unknown tool {params.name!r}")
    async with surface.calling():
        result = await surface.registry.call(params.name, params.arguments or {})
    if not result.ok:
        message = f"tool {result.name} failed: {result.error}"  # the CLI's line for a ToolError
        return mcp_types.CallToolResult(
            content=[mcp_types.TextContent(text=message)], is_error=True
        )
    return mcp_types.CallToolResult(content=[mcp_types.TextContent(text=result.content)])


async def _list_resources(surface: Surface) -> mcp_types.ListResourcesResult:
    import mcp_types

    ingest = surface.runtime.settings.ingest
    rule = NoteRule(ingest.include, ingest.exclude)
    roots = await asyncio.to_thread(surface.runtime.note_roots)
    files = await asyncio.to_thread(
        lambda: list(note_files(roots, rule, max_bytes=ingest.max_file_bytes))
    )
    return mcp_types.ListResourcesResult(
        resources=[
            mcp_types.Resource(
                uri=f.uri, name=f.relative, title=f.path.stem, mime_type="text/markdown"
            )
            for f in files
        ]
    )


async def _read_resource(
    surface: Surface, params: mcp_types.ReadResourceRequestParams
) -> mcp_types.ReadResourceResult:
    import mcp_types
    from mcp.shared.exceptions import MCPError

    ingest = surface.runtime.settings.ingest
    rule = NoteRule(ingest.include, ingest.exclude)
    try:
        async with surface.calling():
            roots = await asyncio.to_thread(surface.runtime.note_roots)
            note = await asyncio.to_thread(
                read_note_resource, str(params.uri), roots, rule, max_bytes=ingest.max_file_bytes
            )
    except LlmorchError as exc:
        raise MCPError(RESOURCE_NOT_FOUND, str(exc)) from exc
    contents = mcp_types.TextResourceContents.model_validate(
        {
            "uri": note.uri,
            "mimeType": "text/markdown",
            "text": note.markdown,
            "_meta": {"title": note.title, "tags": note.tags, "modified": note.modified},
        }
    )
    return mcp_types.ReadResourceResult(contents=[contents])


async def serve_stdio(settings: Settings) -> None:
    """Serve one client on stdin/stdout until it closes stdin; protocol messages only on stdout."""
    from mcp.server.stdio import stdio_server

    surface = Surface(settings)
    server = build_server(surface)
    surface.runtime.lend_knowledge_while_serving()
    try:
        async with stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        await surface.aclose()


def http_app(settings: Settings, *, path: str = "/mcp") -> Starlette:
    """The streamable-HTTP ASGI app serving MCP at `path`. Its lifespan runs the session manager
    and closes the runtime, so whoever mounts it must run the app's lifespan."""
    surface = Surface(settings)
    server = build_server(surface)
    app = server.streamable_http_app(streamable_http_path=path)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(scope_app: Any) -> AsyncGenerator[None]:
        surface.runtime.lend_knowledge_while_serving()
        try:
            async with inner(scope_app):
                yield
        finally:
            await surface.aclose()

    app.router.lifespan_context = lifespan
    return app
