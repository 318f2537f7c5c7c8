"""The approval gate's decisions: who needs asking, what 'always' remembers, what config allows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmorch.tools.approval import Answer, ApprovalGate
from llmorch.tools.base import Tool, tool


@tool
def write(path: str) -> str:
    """Write something."""
    return path


def from_mcp(read_only: bool) -> Tool:
    return Tool(
        name="files__write",
        description="w",
        args_model=write.args_model,
        function=write.function,
        read_only=read_only,
        origin="mcp:files",
    )


async def test_by_default_only_mcp_tools_not_marked_read_only_are_asked_about() -> None:
    gate = ApprovalGate()
    assert await gate.refusal(write, {}) is None
    assert await gate.refusal(from_mcp(read_only=True), {}) is None
    refusal = await gate.refusal(from_mcp(read_only=False), {})
    assert refusal is not None and "--yes" in refusal and "tools.allow" in refusal


async def test_always_is_remembered_for_the_session_and_no_is_not() -> None:
    asked: list[str] = []
    answers: list[Answer] = ["no", "always"]

    def ask(name: str, arguments: Mapping[str, Any]) -> Answer:
        asked.append(name)
        return answers.pop(0)

    gate = ApprovalGate(ask=ask)
    tool_ = from_mcp(read_only=False)
    assert await gate.refusal(tool_, {}) == "the user declined to run files__write"
    assert await gate.refusal(tool_, {}) is None
    assert await gate.refusal(tool_, {}) is None
    assert asked == ["files__write", "files__write"]


async def test_patterns_replace_the_default_and_allow_skips_the_question() -> None:
    gate = ApprovalGate(require=["wri*"], allow=["files__*"])
    assert await gate.refusal(write, {}) is not None
    assert await gate.refusal(from_mcp(read_only=False), {}) is None
    assert await ApprovalGate(assume_yes=True).refusal(from_mcp(read_only=False), {}) is None
