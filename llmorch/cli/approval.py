"""The terminal side of tool approval: asks yes / no / always, or says there is no one to ask."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from llmorch.cli import render

if TYPE_CHECKING:
    from llmorch.tools.approval import Answer, AskUser

_ANSWERS: dict[str, Answer] = {
    "y": "yes",
    "yes": "yes",
    "n": "no",
    "no": "no",
    "a": "always",
    "always": "always",
}


def terminal_approver(before_asking: Callable[[], None] | None = None) -> AskUser | None:
    """A prompt on the terminal, or None when stdin or stderr is not one (pipes, services):
    then calls that need approval are refused with the way to allow them."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None

    def ask(name: str, arguments: Mapping[str, Any]) -> Answer:
        if before_asking is not None:
            before_asking()
        while True:
            try:
                typed = render.approval_question(name, arguments).strip().lower()
            except EOFError:
                return "no"
            if typed in _ANSWERS:
                return _ANSWERS[typed]
            if not typed:
                return "no"

    return ask
