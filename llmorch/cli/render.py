"""All terminal output goes through here: results to stdout, errors and progress to stderr.

Rich honours NO_COLOR and drops colour and live displays when a stream is not a terminal.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from llmorch.errors import LlmorchError

if TYPE_CHECKING:
    from llmorch.retrieval.hits import SearchHit


@cache
def out() -> Console:
    return Console(soft_wrap=True)


@cache
def err() -> Console:
    return Console(stderr=True, soft_wrap=True)


def print_json(data: Any) -> None:
    """Stable machine output: plain JSON on stdout, never coloured or wrapped."""
    out().file.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    out().file.flush()


def error(exc: LlmorchError) -> None:
    console = err()
    console.print(f"[bold red]error:[/] {escape(exc.message)}", markup=True, highlight=False)
    if exc.hint:
        console.print(f"[dim]hint:[/] {escape(exc.hint)}", markup=True, highlight=False)


def settings_table(rows: list[tuple[str, Any, str]], file: Path | None) -> None:
    table = Table(title=f"config file: {file or 'none'}", title_justify="left", expand=False)
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value")
    table.add_column("source", style="dim")
    for key, value, source in rows:
        table.add_row(key, escape(json.dumps(value, default=str)), escape(source))
    out().print(table)


def hits_table(hits: list[SearchHit], query: str) -> None:
    if not hits:
        err().print(f"no notes match {query!r}", markup=False, highlight=False)
        return
    table = Table(expand=False, show_lines=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("score", justify="right")
    table.add_column("note", style="cyan", overflow="fold")
    table.add_column("snippet", overflow="fold")
    for n, hit in enumerate(hits, 1):
        table.add_row(str(n), f"{hit.score:.3f}", escape(hit.citation()), escape(hit.snippet))
    out().print(table)
