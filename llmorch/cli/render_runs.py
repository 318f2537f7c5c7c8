"""Draws run records: a table of runs, and one run as a tree (steps → model calls → tool calls →
retrieved passages) with timings and tokens."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.tree import Tree

from llmorch.cli.render import out, plain

_STATUS_STYLE = {
    "ok": "green",
    "failed": "red",
    "interrupted": "yellow",
    "cancelled": "yellow",
    "running": "cyan",
}
_EXCERPT = 100


def runs_table(runs: list[dict[str, Any]]) -> None:
    if not runs:
        plain("no runs recorded match")
        return
    if not out().is_terminal:
        # One tab-separated line per run: `runs list | cut -f1` gives the ids.
        plain("\n".join("\t".join(_cells(run)) for run in runs))
        return
    table = Table(expand=False)
    for column in ("id", "started", "workflow", "trigger", "status", "took", "tokens", "input"):
        table.add_column(column, overflow="fold", no_wrap=column == "id")
    for run in runs:
        cells = [escape(cell) for cell in _cells(run)]
        style = _STATUS_STYLE.get(run["status"], "")
        cells[4] = f"[{style}]{cells[4]}[/]" if style else cells[4]
        table.add_row(*cells)
    out().print(table)


def _cells(run: dict[str, Any]) -> list[str]:
    status = run["status"]
    if run.get("error_kind") and status != "ok":
        status = f"{status} ({run['error_kind']})"
    return [
        run["id"],
        _when(run["started_at"]),
        run["workflow"],
        run["trigger"],
        status,
        _took(run.get("duration_ms")),
        _tokens(run),
        _brief(run.get("input")),
    ]


def run_tree(run: dict[str, Any]) -> None:
    """The run, then each step under the step it ran in, with what happened inside it."""
    style = _STATUS_STYLE.get(run["status"], "")
    took = None if run["ended_at"] is None else (run["ended_at"] - run["started_at"]) * 1000
    tree = Tree(
        f"[bold]{escape(run['workflow'])}[/] {run['id']} · [{style}]{run['status']}[/] · "
        f"{run['trigger']} · {_when(run['started_at'])} · {_took(took)} · {_tokens(run)} tokens"
    )
    if run.get("parent_id"):
        tree.add(f"[dim]rerun of {run['parent_id']}[/]")
    if run.get("input") is not None:
        tree.add(f"[dim]input[/] {escape(_brief(run['input'], 200))}")
    nodes = _step_nodes(tree, run["steps"])
    for call in run["model_calls"]:
        nodes.get(call["span_id"], tree).add(_model_call(call))
    for call in run["tool_calls"]:
        nodes.get(call["span_id"], tree).add(_tool_call(call))
    for search in run["retrievals"]:
        _retrieval(nodes.get(search["span_id"], tree), search)
    if run.get("error_message"):
        code = "" if run["exit_code"] is None else f", exit {run['exit_code']}"
        tree.add(f"[red]error ({run['error_kind']}{code})[/] {escape(run['error_message'])}")
    elif run.get("output") is not None:
        tree.add(f"[dim]output[/] {escape(_brief(_answer(run['output']), 300))}")
    for sent in run.get("notifications", []):
        tree.add(_notification(sent))
    if out().is_terminal:
        out().print(tree)
        return
    # Piped: whole lines, so `runs show ID | grep model` finds what it looks for uncut.
    Console(file=out().file, width=100_000, color_system=None).print(tree)


def _step_nodes(tree: Tree, steps: list[dict[str, Any]]) -> dict[str | None, Tree]:
    """A node per step, nested by parent span; steps arrive as they finished (children first)."""
    by_span = {step["span_id"]: step for step in steps}
    nodes: dict[str | None, Tree] = {}

    def node(step: dict[str, Any]) -> Tree:
        if step["span_id"] not in nodes:
            parent_step = by_span.get(step["parent_span_id"])
            parent = tree if parent_step is None else node(parent_step)
            nodes[step["span_id"]] = parent.add(_step(step))
        return nodes[step["span_id"]]

    # Started-first order: a parent finished after its children, so it is created from them.
    for step in steps:
        node(step)
    return nodes


def _step(step: dict[str, Any]) -> str:
    style = _STATUS_STYLE.get(step["status"], "")
    attempts = f" · {step['attempts']} attempts" if step["attempts"] > 1 else ""
    error = f" [red]{escape(step['error'])}[/]" if step.get("error") else ""
    return (
        f"[bold]{escape(step['name'])}[/] [{style}]{step['status']}[/] "
        f"{_took(step['duration_ms'])}{attempts}{error}"
    )


def _model_call(call: dict[str, Any]) -> str:
    sent = len(call["messages"]) if call.get("messages") is not None else "?"
    tokens = f"{call['prompt_tokens'] or '?'}+{call['completion_tokens'] or '?'} tokens"
    first = f", first token {_took(call['first_token_ms'])}" if call.get("first_token_ms") else ""
    calls: list[Any] = call.get("tool_calls") or []
    said = (
        f"→ {len(calls)} tool call{'s' if len(calls) != 1 else ''}"
        if calls
        else f"→ {escape(_brief(call.get('answer'), 80))}"
    )
    error = f" [red]{escape(call['error'])}[/]" if call.get("error") else ""
    return (
        f"[magenta]model[/] {escape(call['model'])} ({call['provider']}): {sent} messages "
        f"{said} · {tokens} · {_took(call['latency_ms'])}{first} · "
        f"finish {call['finish_reason']}{error}"
    )


def _tool_call(call: dict[str, Any]) -> str:
    state = "[green]ok[/]" if call["ok"] else f"[red]failed: {escape(call['error'] or '')}[/]"
    arguments = "" if call["arguments"] is None else escape(_brief(call["arguments"], 80))
    return f"[blue]tool[/] {escape(call['name'])} {arguments} {state} {_took(call['duration_ms'])}"


def _notification(sent: dict[str, Any]) -> str:
    state = (
        "[green]delivered[/]" if sent["ok"] else f"[red]failed: {escape(sent['error'] or '')}[/]"
    )
    tries = f"{sent['attempts']} attempt{'s' if sent['attempts'] != 1 else ''}"
    return f"[blue]notify[/] {escape(sent['target'])} ({sent['kind']}) {state} · {tries}"


def _retrieval(parent: Tree, search: dict[str, Any]) -> None:
    hits = search["hits"]
    query = "" if search["query"] is None else repr(search["query"])
    node = parent.add(
        f"[yellow]search[/] {escape(query)} → {len(hits)} hits {_took(search['duration_ms'])}"
    )
    for hit in hits:
        where = f"{hit['path']} # {hit['heading']}" if hit.get("heading") else hit["path"]
        node.add(f"{hit['score']:.3f} {escape(where)} [dim](chunk {hit['chunk']})[/]")


def _answer(output: Any) -> Any:
    """An ask's answer, rather than its whole result, where the output has one."""
    if isinstance(output, dict) and "answer" in output:
        return output["answer"]  # pyright: ignore[reportUnknownVariableType]
    return output  # pyright: ignore[reportUnknownVariableType]


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _took(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _tokens(run: dict[str, Any]) -> str:
    if run.get("prompt_tokens") is None and run.get("completion_tokens") is None:
        return "—"
    return f"{run.get('prompt_tokens') or 0}+{run.get('completion_tokens') or 0}"


def _brief(value: Any, limit: int = _EXCERPT) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
