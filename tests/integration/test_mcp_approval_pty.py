"""Tool approval in a real pseudo-terminal: a write tool from the filesystem MCP server asks
first, and a yes lets it write the file (no and always: tests/unit/tools/test_approval.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pexpect
import yaml
from indexed_vault import LLMORCH
from mcp_servers import filesystem_server

# The question is coloured on a terminal: escape codes may stand between the words.
ASKED = r"allow(\x1b\[[0-9;]*m)*\s+(\x1b\[[0-9;]*m)*files__write_file"


def spawn_write(tmp_path: Path, target: Path) -> pexpect.spawn:
    config = tmp_path / "config.yaml"
    servers = {"files": filesystem_server(target.parent)}
    config.write_text(
        yaml.safe_dump({"mcp": {"servers": servers}, "store": {"path": str(tmp_path / "q")}}),
        encoding="utf-8",
    )
    args = json.dumps({"path": str(target), "content": "written"})
    return pexpect.spawn(
        str(LLMORCH),
        ["tools", "run", "files__write_file", "--args", args],
        env={**os.environ, "LLMORCH_CONFIG": str(config), "TERM": "xterm"},
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 200),
    )


def test_terminal_is_asked_and_yes_runs_the_tool(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "note.txt"
    child = spawn_write(tmp_path, target)
    child.expect(ASKED)
    child.expect("for this tool in this session: ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert target.read_text(encoding="utf-8") == "written"
