"""The MCP server mounted at /mcp on `llmorch serve`, driven by the official MCP client SDK over
streamable HTTP: the same tools and notes as `llmorch mcp`, behind the server's API keys."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from scripted_llm import ScriptedLlm
from served import Served, bearer, serving, serving_indexed, write_config

KEY = "mcp-key-0123456789"


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, vault: Path, model: ScriptedLlm
) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("mcp")
    with serving_indexed(write_config(home, vault, model.base_url, api_keys=[KEY])) as server:
        yield server


@asynccontextmanager
async def mcp_session(served: Served, key: str | None = KEY) -> AsyncIterator[Any]:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    headers = bearer(key) if key else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        streamable_http_client(served.url + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


async def test_mcp_on_serve_lists_tools_searches_and_reads_a_note(
    served: Served, vault: Path
) -> None:
    async with mcp_session(served) as session:
        tools = {t.name for t in (await session.list_tools()).tools}
        assert {"search_knowledge_base", "read_note", "ask", "run_workflow"} <= tools

        found = await session.call_tool("search_knowledge_base", {"query": "tomatoes"})
        assert not found.is_error, found.content[0].text
        assert json.loads(found.content[0].text)[0]["title"] == "Garden"

        resources = {r.uri for r in (await session.list_resources()).resources}
        assert "note://Backup%20strategy.md" in resources
        read = await session.read_resource("note://Backup%20strategy.md")
        assert read.contents[0].text == (vault / "Backup strategy.md").read_text()


async def test_a_workflow_run_over_mcp_on_serve_is_recorded_with_trigger_mcp(
    served: Served, model: ScriptedLlm
) -> None:
    async with mcp_session(served) as session:
        ran = await session.call_tool(
            "run_workflow", {"workflow": "qa", "input": {"query": "when do backups run?"}}
        )
    assert not ran.is_error, ran.content[0].text
    run_id = json.loads(ran.content[0].text)["run_id"]
    run = served.request("GET", f"/api/runs/{run_id}", headers={"X-API-Key": KEY}).json()
    assert (run["workflow"], run["trigger"], run["status"]) == ("qa", "mcp", "ok")


async def test_mcp_without_the_key_is_401_and_the_client_cannot_connect(served: Served) -> None:
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}}  # fmt: skip
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    for key in (None, "wrong-key"):
        auth = {"Authorization": f"Bearer {key}"} if key else {}
        reply = served.post_json("/mcp", initialize, headers | auth)
        assert reply.status == 401
        assert reply.json()["error"]["type"] == "unauthorized"
    with pytest.raises(Exception):  # noqa: B017 - the SDK's error type for a 401 varies
        async with mcp_session(served, key=None):
            pass


async def test_sigterm_with_an_mcp_session_open_exits_zero(
    tmp_path: Path, vault: Path, model: ScriptedLlm
) -> None:
    import asyncio
    import time

    with serving(write_config(tmp_path, vault, model.base_url, shutdown_timeout_s=20)) as server:
        async with mcp_session(server, key=None) as session:
            await session.list_tools()
            started = time.monotonic()
            code = await asyncio.to_thread(server.stop)
    assert code == 0
    assert time.monotonic() - started < 10, "an idle MCP stream must not hold up the shutdown"
