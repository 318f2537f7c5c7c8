"""MCP servers' tools inside llmorch, against real servers: the reference npm servers under node
and a flaky Python server that fails, crashes and hangs on purpose."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from indexed_vault import LLMORCH
from mcp_servers import everything_server, filesystem_server, flaky_server

from llmorch.config import Settings
from llmorch.workflows.runtime import Runtime


def settings_with(servers: dict[str, dict[str, Any]], tmp_path: Path, **extra: Any) -> Settings:
    return Settings.model_validate(
        {"mcp": {"servers": servers}, "store": {"path": str(tmp_path / "qdrant")}, **extra}
    )


def approved(servers: dict[str, dict[str, Any]], tmp_path: Path) -> Settings:
    """Settings where every tool may run: these tests are about failures, not approval."""
    return settings_with(servers, tmp_path, tools={"require_approval": []})


def cli_env(tmp_path: Path, servers: dict[str, Any]) -> dict[str, str]:
    """The environment under which the CLI has only these MCP servers configured."""
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({"mcp": {"servers": servers}, "store": {"path": str(tmp_path / "q")}}),
        encoding="utf-8",
    )
    return {**os.environ, "LLMORCH_CONFIG": str(config)}


def llmorch(
    tmp_path: Path, servers: dict[str, Any], *args: str
) -> subprocess.CompletedProcess[str]:
    """The real CLI with only these MCP servers configured, stdin not a terminal."""
    return subprocess.run(
        [str(LLMORCH), *args],
        env=cli_env(tmp_path, servers),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_server_tools_are_listed_with_their_server_prefix_and_given_schema(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    servers = {"everything": everything_server(), "files": filesystem_server(shared)}
    listed = llmorch(tmp_path, servers, "tools", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    names = [d["name"] for d in json.loads(listed.stdout)]
    assert names[:2] == ["search_knowledge_base", "read_note"]
    assert {"everything__echo", "everything__get-sum", "files__read_text_file"} <= set(names)
    assert all(len(n) <= 64 and n.replace("_", "").replace("-", "").isalnum() for n in names)
    shown = llmorch(tmp_path, servers, "tools", "show", "everything__get-sum")
    schema = json.loads(shown.stdout)["parameters"]
    assert set(schema["required"]) == {"a", "b"}
    assert schema["properties"]["a"]["type"] == "number"


def test_tools_run_returns_what_the_server_answers(tmp_path: Path) -> None:
    servers = {"everything": everything_server()}
    echoed = llmorch(
        tmp_path, servers, "tools", "run", "everything__echo", "-a", '{"message": "heron"}'
    )
    assert echoed.returncode == 0, echoed.stderr
    assert echoed.stdout.strip() == "Echo: heron"
    summed = llmorch(
        tmp_path, servers, "tools", "run", "everything__get-sum", "-a", '{"a": 2, "b": 40}'
    )
    assert "42" in summed.stdout, summed.stderr


def test_arguments_are_checked_against_the_servers_schema_before_the_call(tmp_path: Path) -> None:
    servers = {"everything": everything_server()}
    bad = llmorch(
        tmp_path, servers, "tools", "run", "everything__get-sum", "-a", '{"a": 2, "b": "x"}'
    )
    assert bad.returncode == 7
    assert "invalid arguments for everything__get-sum: b: 'x' is not of type 'number'" in bad.stderr


async def test_an_error_answer_becomes_a_tool_error_the_model_reads(tmp_path: Path) -> None:
    async with Runtime(approved({"flaky": flaky_server()}, tmp_path)) as runtime:
        registry = await runtime.tool_registry()
        assert (await registry.call("flaky__add", {"a": 2, "b": 3})).content == "5"
        failed = await registry.call("flaky__fail", {"reason": "no cheese"})
    assert not failed.ok
    assert failed.content.startswith("error: fail on MCP server flaky failed:")
    assert "refused: no cheese" in failed.content


async def test_killed_server_becomes_a_tool_error_with_its_stderr(tmp_path: Path) -> None:
    async with Runtime(approved({"flaky": flaky_server(call_timeout_s=20)}, tmp_path)) as runtime:
        registry = await runtime.tool_registry()
        started = time.monotonic()
        crashed = await registry.call("flaky__crash", {})
        assert time.monotonic() - started < 15, "a dead server must not wait out the call timeout"
        after = await registry.call("flaky__add", {"a": 1, "b": 1})
    assert not crashed.ok
    assert crashed.error is not None and "MCP server flaky" in crashed.error
    assert "out of cheese" in crashed.error
    assert not after.ok and after.error is not None
    assert "MCP server flaky is not running" in after.error


async def test_server_that_never_answers_a_call_times_out(tmp_path: Path) -> None:
    async with Runtime(approved({"flaky": flaky_server(call_timeout_s=1.5)}, tmp_path)) as runtime:
        registry = await runtime.tool_registry()
        started = time.monotonic()
        hung = await registry.call("flaky__hang", {})
        waited = time.monotonic() - started
        assert (await registry.call("flaky__add", {"a": 1, "b": 2})).content == "3"
    assert not hung.ok and hung.error == "MCP server flaky did not answer hang within 1.5s"
    assert waited < 10


async def test_server_that_never_starts_leaves_the_others_working(tmp_path: Path) -> None:
    servers = {
        "stuck": flaky_server("--hang-on-start", start_timeout_s=3),
        "missing": {"command": str(tmp_path / "no-such-server")},
        "flaky": flaky_server(),
    }
    async with Runtime(approved(servers, tmp_path)) as runtime:
        registry = await runtime.tool_registry()
        assert (await registry.call("flaky__add", {"a": 20, "b": 22})).content == "42"
        unknown = await registry.call("stuck__add", {"a": 1, "b": 1})
    stuck = registry.unavailable["MCP server stuck"]
    assert "did not answer within 3s of starting" in stuck
    assert "stuck before initialize" in stuck  # its stderr tail
    assert "MCP server missing failed to start" in registry.unavailable["MCP server missing"]
    assert unknown.error is not None and "unavailable: MCP server stuck" in unknown.error


def test_ctrl_c_during_a_call_stops_llmorch_and_its_server(tmp_path: Path) -> None:
    pid_file = tmp_path / "flaky.pid"
    servers = {"flaky": {**flaky_server(), "env": {"FLAKY_PID_FILE": str(pid_file)}}}
    child = subprocess.Popen(
        [str(LLMORCH), "tools", "run", "flaky__hang", "--yes"],
        env=cli_env(tmp_path, servers),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        server_pid = int(wait_for(pid_file.read_text, timeout_s=60))  # the call is in flight
        child.send_signal(signal.SIGINT)
        child.communicate(timeout=20)
    finally:
        child.kill()
    assert child.returncode == 130
    assert wait_for(lambda: not alive(server_pid), timeout_s=10), "the server outlived llmorch"


def wait_for(probe: Callable[[], Any], *, timeout_s: float) -> Any:
    """The first truthy answer of `probe` (which may raise OSError until then) within the time."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if answer := probe():
                return answer
        except OSError:
            pass
        assert time.monotonic() < deadline, f"nothing from {probe} within {timeout_s}s"
        time.sleep(0.05)


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie nobody reaped yet has stopped running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_write_tool_is_refused_when_piped_with_the_way_to_allow_it(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    servers = {"files": filesystem_server(shared)}
    target = shared / "note.txt"
    args = json.dumps({"path": str(target), "content": "written"})
    refused = llmorch(tmp_path, servers, "tools", "run", "files__write_file", "-a", args)
    assert refused.returncode == 7
    assert "files__write_file needs approval and there is no terminal to ask" in refused.stderr
    assert "--yes" in refused.stderr and "tools.allow" in refused.stderr
    assert not target.exists()
    allowed = llmorch(tmp_path, servers, "tools", "run", "files__write_file", "-a", args, "--yes")
    assert allowed.returncode == 0, allowed.stderr
    assert target.read_text(encoding="utf-8") == "written"


@pytest.mark.integration
async def test_agent_loop_calls_an_mcp_tool_on_the_real_model(
    tmp_path: Path, llama_server: Any
) -> None:
    """SmolLM2-135M rarely picks a tool by itself, so the first turn forces it with tool_choice;
    what is tested is the path: the model's call reaches the node server and its answer returns."""
    from llmorch.llm.loop import ToolLoop
    from llmorch.llm.messages import UserMessage

    settings = settings_with(
        {"everything": everything_server()},
        tmp_path,
        llm=llama_server.settings().model_dump(mode="json"),
    )
    async with Runtime(settings) as runtime:
        loop = ToolLoop(runtime.llm(), await runtime.tool_registry(), max_iterations=2)
        result = await loop.run(
            [UserMessage(content="Echo the word heron.")], tool_choice="everything__echo"
        )
    (call, *_) = result.tool_calls
    assert call.name == "everything__echo"
    assert call.ok, call.error
