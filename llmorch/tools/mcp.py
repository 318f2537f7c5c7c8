"""MCP servers' tools as a toolset: the configured servers start together when a command first
needs tools, live for the session, and their tools join the registry as `<server>__<tool>`.

Every way a server can fail — not starting, hanging, crashing mid-call, answering with an
error — becomes a ToolError naming the server with the tail of its stderr; timeouts bound both
start-up and each call, so nothing here can hang a command.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import tempfile
from collections.abc import AsyncGenerator, Mapping
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, TextIO, cast

from pydantic import BaseModel, ConfigDict

from llmorch.errors import ToolError
from llmorch.logging import logger
from llmorch.tools.base import Tool

if TYPE_CHECKING:
    import mcp_types
    from anyio import CancelScope
    from mcp import ClientSession

    from llmorch.config import McpServerSettings

MAX_TOOL_NAME = 64
"""OpenAI's limit on a function name; llama.cpp and most local servers keep to it too."""
_STDERR_TAIL_CHARS = 600


class _AnyArguments(BaseModel):
    """The given JSON Schema validates an MCP tool's arguments; pydantic only carries them."""

    model_config = ConfigDict(extra="allow")


def tool_name(server: str, name: str) -> str:
    """`<server>__<name>` as a valid OpenAI tool name: [a-zA-Z0-9_-], at most 64 characters."""
    full = re.sub(r"[^a-zA-Z0-9_-]", "_", f"{server}__{name}")
    if len(full) <= MAX_TOOL_NAME:
        return full
    digest = hashlib.sha1(full.encode()).hexdigest()[:8]
    return f"{full[: MAX_TOOL_NAME - 9]}_{digest}"


class McpServer:
    """One server connection, held open by its own task: the SDK's anyio scopes must be entered
    and left in the same task, while calls arrive from whichever task runs the tool."""

    def __init__(self, name: str, settings: McpServerSettings) -> None:
        self.name = name
        self.settings = settings
        self._session: ClientSession | None = None
        # A real file: the server process writes its stderr there, and errors quote its tail.
        self._stderr = cast(
            TextIO,
            tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace"),  # noqa: SIM115 (closed in stop)
        )
        self._ready: asyncio.Future[list[mcp_types.Tool]] | None = None
        self._scope = _cancel_scope()
        self._task: asyncio.Task[None] | None = None
        self._ended: str | None = None

    async def start(self) -> list[Tool]:
        """Connect, initialize and list the tools, within the start timeout; ToolError if not."""
        self._ready = asyncio.get_running_loop().create_future()
        self._task = asyncio.create_task(self._hold(), name=f"mcp server {self.name}")
        try:
            listed = await asyncio.shield(self._ready)
        except TimeoutError:
            raise self._failure(
                f"did not answer within {self.settings.start_timeout_s:g}s of starting"
            ) from None
        except Exception as exc:
            raise self._failure(f"failed to start: {_describe(exc)}") from exc
        return [self._tool(t) for t in listed]

    async def _hold(self) -> None:
        """Open the session and keep it until `stop` cancels the scope. Timeouts and stopping use
        anyio's own cancellation: the SDK's scopes then unwind in order, process shutdown included."""
        import anyio
        from mcp import ClientSession

        assert self._ready is not None
        try:
            with self._scope:
                async with AsyncExitStack() as stack:
                    read, write = await stack.enter_async_context(self._transport())
                    session = await stack.enter_async_context(ClientSession(read, write))
                    try:
                        with anyio.fail_after(self.settings.start_timeout_s):
                            await session.initialize()
                            listed = await _all_tools(session)
                    except Exception as exc:
                        # Tell `start` now; shutting the process down may take a few seconds more.
                        self._ready.set_exception(exc)
                        raise
                    self._session = session
                    self._ready.set_result(listed)
                    await anyio.sleep_forever()
        except Exception as exc:
            self._ended = _describe(exc)
            if not self._ready.done():
                self._ready.set_exception(exc)
            logger.debug("mcp server {} ended: {}", self.name, self._ended)
        finally:
            self._session = None
            self._ended = self._ended or "stopped"
            if not self._ready.done():
                self._ready.set_exception(ToolError("stopped before it started"))

    def _transport(self) -> AbstractAsyncContextManager[Any]:
        settings = self.settings
        if settings.command is not None:
            from mcp.client.stdio import StdioServerParameters, stdio_client

            parameters = StdioServerParameters(
                command=settings.command,
                args=settings.args,
                env=settings.env or None,
                cwd=settings.cwd,
            )
            return stdio_client(parameters, errlog=self._stderr)
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        headers = dict(settings.headers)
        for header, variable in settings.headers_from_env.items():
            value = os.environ.get(variable)
            if value is None:
                raise ToolError(
                    f"MCP server {self.name}: environment variable {variable} is not set"
                )
            headers[header] = value
        assert settings.url is not None
        return _owning(streamable_http_client, settings.url, create_mcp_http_client(headers))

    def _tool(self, listed: mcp_types.Tool) -> Tool:
        annotations = listed.annotations
        remote = listed.name

        async def call(arguments: dict[str, Any]) -> Any:
            return await self.call(remote, arguments)

        return Tool(
            name=tool_name(self.name, remote),
            description=(listed.description or listed.title or remote).strip(),
            args_model=_AnyArguments,
            function=call,
            # The call's own timeout fires first and says which server; this one is the backstop.
            timeout_s=self.settings.call_timeout_s + 5,
            input_schema=listed.input_schema,
            read_only=bool(annotations and annotations.read_only_hint),
            origin=f"mcp:{self.name}",
        )

    async def call(self, remote: str, arguments: dict[str, Any]) -> Any:
        session = self._session
        if session is None:
            raise self._failure(f"is not running ({self._ended or 'never started'})")
        limit = self.settings.call_timeout_s
        try:
            async with asyncio.timeout(limit):
                result = await session.call_tool(remote, arguments)
        except TimeoutError:
            raise self._failure(f"did not answer {remote} within {limit:g}s") from None
        except Exception as exc:
            # The transport is gone (the process died, the connection closed): later calls say so
            # at once instead of trying a dead session again.
            self._session, self._ended = None, _describe(exc)
            raise self._failure(f"failed during {remote}: {self._ended}") from exc
        if result.is_error:
            raise ToolError(f"{remote} on MCP server {self.name} failed: {_content_text(result)}")
        return _content_value(result)

    def _failure(self, what: str) -> ToolError:
        tail = self.stderr_tail()
        return ToolError(f"MCP server {self.name} {what}" + (f"; stderr: {tail}" if tail else ""))

    def stderr_tail(self) -> str:
        try:
            self._stderr.flush()
            size = self._stderr.seek(0, os.SEEK_END)
            self._stderr.seek(max(0, size - _STDERR_TAIL_CHARS * 4))
            text = self._stderr.read()
        except (OSError, ValueError):
            return ""
        return " ⏎ ".join(text.strip().splitlines())[-_STDERR_TAIL_CHARS:]

    async def stop(self) -> None:
        """Close the session: stdin closed, then terminate, then kill (the SDK's bounded steps)."""
        self._scope.cancel()
        task, self._task = self._task, None
        if task is not None:
            try:
                await task
            except Exception as exc:
                logger.debug("mcp server {} stopped with {}", self.name, _describe(exc))
        self._stderr.close()


class McpToolset:
    """The configured servers for one session: started in parallel, stopped together."""

    def __init__(self, servers: Mapping[str, McpServerSettings]) -> None:
        self._servers = [McpServer(name, settings) for name, settings in servers.items()]
        self.failures: dict[str, str] = {}
        """Server name -> why its tools are missing; surfaced to the user and the model."""

    async def start(self) -> list[Tool]:
        outcomes = await asyncio.gather(
            *(server.start() for server in self._servers), return_exceptions=True
        )
        tools: list[Tool] = []
        for server, outcome in zip(self._servers, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, ToolError):
                    raise outcome
                self.failures[f"MCP server {server.name}"] = str(outcome)
                logger.warning("{}", outcome)
            else:
                tools += outcome
        return tools

    async def aclose(self) -> None:
        await asyncio.gather(*(server.stop() for server in self._servers))


def _cancel_scope() -> CancelScope:
    from anyio import CancelScope

    return CancelScope()


async def _all_tools(session: ClientSession) -> list[mcp_types.Tool]:
    import mcp_types

    listed = await session.list_tools()
    tools = list(listed.tools)
    while listed.next_cursor:
        params = mcp_types.PaginatedRequestParams(cursor=listed.next_cursor)
        listed = await session.list_tools(params=params)
        tools += listed.tools
    return tools


def _content_text(result: mcp_types.CallToolResult) -> str:
    import mcp_types

    parts: list[str] = []
    for block in result.content:
        if isinstance(block, mcp_types.TextContent):
            parts.append(block.text)
        elif isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
            parts.append(f"[{block.type} {block.mime_type}, not shown]")
        elif isinstance(block, mcp_types.ResourceLink):
            parts.append(f"[resource {block.uri}]")
        elif isinstance(block.resource, mcp_types.TextResourceContents):
            parts.append(block.resource.text)
        else:
            parts.append(f"[resource {block.resource.uri}]")
    return "\n".join(parts)


def _content_value(result: mcp_types.CallToolResult) -> Any:
    """Text content as the model reads it; structured content only when there is no text."""
    text = _content_text(result)
    if not text and result.structured_content is not None:
        return result.structured_content
    return text


def _describe(exc: BaseException) -> str:
    """One line for an exception; anyio groups (a crashed transport) are unwrapped to the cause."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:  # pyright: ignore[reportUnknownMemberType]
        exc = exc.exceptions[0]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    text = str(exc).strip()  # pyright: ignore[reportUnknownArgumentType]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__  # pyright: ignore[reportUnknownArgumentType]


@asynccontextmanager
async def _owning(open_transport: Any, url: str, client: Any) -> AsyncGenerator[Any]:
    """The HTTP transport plus the httpx client it uses, closed together."""
    async with client, open_transport(url, http_client=client) as streams:
        yield streams
