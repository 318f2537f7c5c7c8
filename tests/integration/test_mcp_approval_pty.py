"""Tool approval in a real pseudo-terminal: a write tool from the filesystem MCP server asks
first; yes lets it write the file, no leaves it unwritten (always: tests/unit/tools/test_approval.py)."""

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


def answer_the_question(tmp_path: Path, answer: str) -> tuple[int | None, str, Path]:
    """Run the write tool, answer its question; the exit status, what followed, the target."""
    shared = tmp_path / "shared"
    shared.mkdir()
    target = shared / "note.txt"
    child = spawn_write(tmp_path, target)
    child.expect(ASKED)
    child.expect("for this tool in this session: ")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    after = str(child.before)
    child.close()
    return child.exitstatus, after, target


def test_terminal_is_asked_and_yes_runs_the_tool(tmp_path: Path) -> None:
    status, _, target = answer_the_question(tmp_path, "y")
    assert status == 0
    assert target.read_text(encoding="utf-8") == "written"


def test_terminal_is_asked_and_no_refuses_the_tool(tmp_path: Path) -> None:
    status, after, target = answer_the_question(tmp_path, "n")
    assert status == 7
    assert "the user declined to run files__write_file" in after
    assert not target.exists()
