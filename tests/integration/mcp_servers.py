"""Real MCP servers for the client-side tests: the reference npm servers under node (installed by
scripts/setup-mcp-servers) and the flaky Python server beside this file, as `mcp.servers` entries."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO / ".mcp-servers" / "node_modules" / "@modelcontextprotocol"
FLAKY = Path(__file__).with_name("flaky_mcp_server.py")


def _node_server(package: str, *args: str) -> dict[str, Any]:
    entry = NODE_MODULES / package / "dist" / "index.js"
    node = shutil.which("node")
    if node is None or not entry.is_file():
        pytest.skip(f"{package} is not installed (run scripts/setup-mcp-servers; needs npm)")
    return {"command": node, "args": [str(entry), *args]}


def everything_server() -> dict[str, Any]:
    """@modelcontextprotocol/server-everything: echo, get-sum and friends."""
    return _node_server("server-everything", "stdio")


def filesystem_server(shared: Path) -> dict[str, Any]:
    """@modelcontextprotocol/server-filesystem, allowed to touch `shared` only."""
    return _node_server("server-filesystem", str(shared))


def flaky_server(
    *args: str, call_timeout_s: float = 60, start_timeout_s: float = 20
) -> dict[str, Any]:
    return {
        "command": sys.executable,
        "args": [str(FLAKY), *args],
        "call_timeout_s": call_timeout_s,
        "start_timeout_s": start_timeout_s,
    }
