"""A small MCP server (the official SDK's MCPServer) with tools that misbehave on purpose:
`add` works, `fail` answers with a tool error, `crash` kills the process mid-call, `hang` never
answers (first writing its process id to $FLAKY_PID_FILE when set, so a test knows the call is
in flight and can tell whether the server outlived llmorch). `--hang-on-start` never answers
initialize at all."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

if "--hang-on-start" in sys.argv:  # before the SDK's import, so the message comes out at once
    print("flaky: stuck before initialize", file=sys.stderr, flush=True)
    time.sleep(3600)

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

server = MCPServer("flaky")


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    return str(a + b)


@server.tool()
def fail(reason: str) -> str:
    """Always fails with the given reason."""
    raise ToolError(f"refused: {reason}")


@server.tool()
def crash() -> str:
    """Dies in the middle of the call, saying why on stderr."""
    print("flaky: out of cheese, exiting", file=sys.stderr, flush=True)
    os._exit(3)


@server.tool()
def hang() -> str:
    """Never answers."""
    if pid_file := os.environ.get("FLAKY_PID_FILE"):
        written = Path(pid_file + ".tmp")
        written.write_text(str(os.getpid()), encoding="utf-8")
        written.replace(pid_file)  # whole, never half written
    time.sleep(3600)
    return "unreachable"


if __name__ == "__main__":
    server.run()
