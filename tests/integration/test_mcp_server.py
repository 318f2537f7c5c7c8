"""`llmorch mcp` driven by the official MCP client SDK: over stdio as a subprocess, and over
streamable HTTP with `http_app` under a real uvicorn on 127.0.0.1. A scripted model server
answers `ask` and `run_workflow`."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from indexed_vault import LLMORCH, indexed_vault_env

from llmorch.workflows.builtin import BUILTIN_MODULES

BUILTIN_NAMES = [module.rsplit(".", 1)[1] for module in BUILTIN_MODULES]

REPO = Path(__file__).resolve().parents[2]
SCRIPTED_LLM = REPO / "tests" / "unit" / "cli" / "scripted_llm.py"
VAULT = {
    "Backup strategy.md": "---\ntags: [homelab]\n---\n# Backup strategy\n\nRestic runs nightly at 02:30.\n",
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays.\n",
}


@pytest.fixture
def llm_url() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, str(SCRIPTED_LLM)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        yield f"http://127.0.0.1:{int(server.stdout.readline().split()[1])}/v1"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def env(tmp_path: Path, llm_url: str) -> dict[str, str]:
    return indexed_vault_env(tmp_path, VAULT, {"base_url": llm_url, "max_retries": 0})


@asynccontextmanager
async def stdio_session(env: dict[str, str], stderr: Any) -> AsyncIterator[Any]:
    from mcp import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=str(LLMORCH), args=["mcp"], env=env)
    async with (
        stdio_client(params, errlog=stderr) as (read, write),
        ClientSession(read, write) as s,
    ):
        await s.initialize()
        yield s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_started(server: Any, timeout_s: float = 30) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)


@asynccontextmanager
async def http_session(env: dict[str, str]) -> AsyncIterator[Any]:
    """http_app under uvicorn in a thread, the SDK's streamable-HTTP client against it."""
    import uvicorn
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    from llmorch.config import load_config
    from llmorch.mcp.server import http_app

    settings = load_config(Path(env["LLMORCH_CONFIG"])).settings
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(http_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        await asyncio.to_thread(wait_until_started, server)
        url = f"http://127.0.0.1:{port}/mcp"
        async with streamable_http_client(url) as (read, write), ClientSession(read, write) as s:
            await s.initialize()
            yield s
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 15)


async def exercise_every_tool_and_a_note(session: Any) -> None:
    from mcp.shared.exceptions import MCPError

    tools = {t.name: t for t in (await session.list_tools()).tools}
    assert set(tools) == {
        "search_knowledge_base",
        "read_note",
        "ask",
        "list_workflows",
        "run_workflow",
    }
    read_only = {name for name, t in tools.items() if t.annotations.read_only_hint}
    assert read_only == {"search_knowledge_base", "read_note", "ask", "list_workflows"}
    offered = tools["run_workflow"].input_schema["properties"]["workflow"]["enum"]
    assert offered == sorted(BUILTIN_NAMES)

    found = await session.call_tool("search_knowledge_base", {"query": "restic"})
    assert not found.is_error
    assert json.loads(found.content[0].text)[0]["title"] == "Backup strategy"

    note = await session.call_tool("read_note", {"path": "Garden"})
    assert note.content[0].text == VAULT["Garden.md"]

    asked = await session.call_tool("ask", {"query": "when does restic run?"})
    assert not asked.is_error, asked.content[0].text
    answer = json.loads(asked.content[0].text)
    assert answer["answer"] and answer["sources"][0]["path"] == "Backup strategy.md"

    listed = json.loads((await session.call_tool("list_workflows", {})).content[0].text)
    qa = next(w for w in listed if w["name"] == "qa")
    assert "query" in qa["input_schema"]["properties"]

    ran = await session.call_tool(
        "run_workflow", {"workflow": "qa", "input": {"query": "when does restic run?"}}
    )
    assert not ran.is_error, ran.content[0].text
    assert json.loads(ran.content[0].text)["workflow"] == "qa"

    bad = await session.call_tool("read_note", {"path": "../../etc/passwd"})
    assert bad.is_error
    assert bad.content[0].text.startswith("tool read_note failed: read_note only reads")
    wrong_type = await session.call_tool("search_knowledge_base", {"query": "x", "limit": "many"})
    assert wrong_type.is_error and "limit" in wrong_type.content[0].text

    with pytest.raises(MCPError, match="unknown tool 'delete_everything'"):
        await session.call_tool("delete_everything", {})

    resources = (await session.list_resources()).resources
    assert [r.uri for r in resources] == ["note://Backup%20strategy.md", "note://Garden.md"]
    read = await session.read_resource("note://Backup%20strategy.md")
    (contents,) = read.contents
    assert contents.text == VAULT["Backup strategy.md"]
    assert contents.meta["title"] == "Backup strategy" and contents.meta["tags"] == ["homelab"]


async def test_stdio_server_answers_every_tool_and_writes_only_protocol_to_stdout(
    env: dict[str, str], tmp_path: Path
) -> None:
    stderr = (tmp_path / "stderr.txt").open("w+")
    async with stdio_session({**env, "LLMORCH_LOGGING__LEVEL": "DEBUG"}, stderr) as session:
        await exercise_every_tool_and_a_note(session)
    stderr.close()
    assert "DEBUG" in (tmp_path / "stderr.txt").read_text(), "logs belong on stderr"
    runs = await asyncio.to_thread(
        subprocess.run,
        [str(LLMORCH), "runs", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    by_mcp = [
        (r["workflow"], r["status"]) for r in json.loads(runs.stdout) if r["trigger"] == "mcp"
    ]
    assert by_mcp == [("qa", "ok"), ("qa", "ok")], "ask and run_workflow leave run records"


def test_stdout_of_llmorch_mcp_is_only_json_rpc(env: dict[str, str]) -> None:
    """Raw bytes: every line on stdout parses as a JSON-RPC message, even with debug logs on."""
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {"jsonrpc": "2.0", "id": 3, "method": "tools/call",
         "params": {"name": "search_knowledge_base", "arguments": {"query": "restic"}}},
    ]  # fmt: skip
    done = subprocess.run(
        [str(LLMORCH), "-vv", "mcp"],
        input="".join(json.dumps(m) + "\n" for m in messages),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stdout.splitlines()
    replies = [json.loads(line) for line in lines]
    assert all(r["jsonrpc"] == "2.0" for r in replies)
    # The call may be cut short by stdin closing; every reply is still a protocol message.
    assert [r.get("id") for r in replies][:2] == [1, 2]


async def test_http_app_serves_the_same_tools_under_uvicorn(env: dict[str, str]) -> None:
    os.environ.setdefault("NO_COLOR", "1")
    async with http_session(env) as session:
        await exercise_every_tool_and_a_note(session)


async def test_ingest_runs_while_the_server_holds_the_index_and_the_next_search_sees_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    """The server keeps the embedded index open between calls, yet lends it to a waiting
    `llmorch ingest`; the search after the ingest reopens it and finds the new note."""
    stderr = (tmp_path / "stderr.txt").open("w+")
    async with stdio_session(env, stderr) as session:
        first = await session.call_tool("search_knowledge_base", {"query": "restic"})
        assert json.loads(first.content[0].text)[0]["title"] == "Backup strategy"
        (tmp_path / "vault" / "Heron.md").write_text("# Heron\n\nThe grey heron fishes at dawn.\n")
        impatient = await ingest(env, busy_timeout_s=0)
        assert impatient.returncode != 0 and "is busy" in impatient.stderr, "the index is held"
        ingested = await ingest(env, busy_timeout_s=10)
        assert ingested.returncode == 0, ingested.stderr
        found = await session.call_tool("search_knowledge_base", {"query": "heron"})
        assert not found.is_error, found.content[0].text
        assert [hit["title"] for hit in json.loads(found.content[0].text)] == ["Heron"]
    stderr.close()


async def ingest(env: dict[str, str], *, busy_timeout_s: float) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [str(LLMORCH), "ingest"],
        env={**env, "LLMORCH_STORE__BUSY_TIMEOUT_S": str(busy_timeout_s)},
        capture_output=True,
        text=True,
        timeout=120,
    )
