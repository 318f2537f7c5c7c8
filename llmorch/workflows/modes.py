"""The ways `ask` and `chat` can answer, named once, and the built-in workflow each one runs.

Kept free of heavy imports: the CLI reads it to declare `--mode` before any command runs.
"""

from __future__ import annotations

from typing import Literal, get_args

AskMode = Literal["rag", "agent", "plain"]
"""rag: retrieve, then answer from the passages. agent: the model searches through the tool loop.
plain: the model alone; the index is never opened."""

ASK_MODES: tuple[AskMode, ...] = get_args(AskMode)

WORKFLOW_FOR_MODE: dict[AskMode, str] = {"rag": "qa", "agent": "agent", "plain": "plain"}
"""`ask --mode rag` is the `qa` workflow, `--mode agent` the `agent` one, `--mode plain` `plain`."""
