"""The approval gate: tools that act on the world (MCP tools not marked read-only, or names the
user lists) run only when the user says so — asked on a terminal, refused without one."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from llmorch.config import ToolSettings

Answer = Literal["yes", "no", "always"]
AskUser = Callable[[str, Mapping[str, Any]], Answer]
"""Asks the user about one call (tool name, arguments); lives in the CLI, which owns the terminal."""


class Tool(Protocol):
    """What the gate reads of a tool (`tools.base.Tool` has it), so the gate needs no registry."""

    @property
    def name(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def read_only(self) -> bool: ...


class ApprovalGate:
    """Decides per call; "always" is remembered for the tool until the session ends."""

    def __init__(
        self,
        *,
        require: Sequence[str] | None = None,
        allow: Sequence[str] = (),
        ask: AskUser | None = None,
        assume_yes: bool = False,
    ) -> None:
        self._require = None if require is None else tuple(require)
        self._allow = tuple(allow)
        self._ask = ask
        self._assume_yes = assume_yes
        self._always: set[str] = set()
        self._asking = asyncio.Lock()

    @classmethod
    def from_settings(
        cls, settings: ToolSettings, *, ask: AskUser | None, assume_yes: bool
    ) -> ApprovalGate:
        return cls(
            require=settings.require_approval,
            allow=settings.allow,
            ask=ask,
            assume_yes=assume_yes,
        )

    def needs_approval(self, tool: Tool) -> bool:
        if self._require is None:
            return tool.origin.startswith("mcp:") and not tool.read_only
        return any(fnmatchcase(tool.name, pattern) for pattern in self._require)

    async def refusal(self, tool: Tool, arguments: Mapping[str, Any]) -> str | None:
        """None when the call may run, else the reason it may not (the model and user read it)."""
        if not self.needs_approval(tool) or self._pre_approved(tool.name):
            return None
        if self._ask is None:
            return (
                f"{tool.name} needs approval and there is no terminal to ask; allow it with "
                f"--yes, or with tools.allow: ['{tool.name}'] in the config"
            )
        async with self._asking:  # one question at a time, even when calls run in parallel
            if self._pre_approved(tool.name):
                return None
            answer = await asyncio.to_thread(self._ask, tool.name, arguments)
        if answer == "always":
            self._always.add(tool.name)
        return None if answer in ("yes", "always") else f"the user declined to run {tool.name}"

    def _pre_approved(self, name: str) -> bool:
        return (
            self._assume_yes
            or name in self._always
            or any(fnmatchcase(name, pattern) for pattern in self._allow)
        )
