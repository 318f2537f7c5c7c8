"""All terminal output goes through here: results to stdout, errors and progress to stderr.

Rich honours NO_COLOR and drops colour and live displays when a stream is not a terminal. Its
emoji shortcodes are off: `kiwi :x: name.md` is a file name, and printed paths must be real.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from llmorch.errors import LlmorchError
from llmorch.redaction import redact

if TYPE_CHECKING:
    from rich.live import Live
    from rich.progress import Progress, TaskID
    from rich.segment import Segment
    from rich.status import Status

    from llmorch.ingest.sync import IngestSummary
    from llmorch.llm.health import ProfileHealth
    from llmorch.retrieval.hits import SearchHit
    from llmorch.retrieval.links import RelatedNote
    from llmorch.tools.definition import ToolDefinition
    from llmorch.workflows.citations import Source
    from llmorch.workflows.registry import AnyWorkflow, BrokenWorkflow


class _RedactingStream:
    """The process's stdout or stderr (looked up on each write, as test runners swap them) with
    every secret redacted: errors, JSON, tracebacks and answers all leave through here."""

    def __init__(self, stream: Callable[[], TextIO]) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream().write(redact(text))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream(), name)


@cache
def out() -> Console:
    console = Console(file=_RedactingStream(lambda: sys.stdout), emoji=False)  # pyright: ignore[reportArgumentType]
    # Piped output keeps its long lines (no 80-column wrapping). On a terminal Rich must wrap:
    # a soft-wrapped live display crops every streamed paragraph to its first line.
    console.soft_wrap = not console.is_terminal
    return console


@cache
def err() -> Console:
    return Console(file=_RedactingStream(lambda: sys.stderr), soft_wrap=True, emoji=False)  # pyright: ignore[reportArgumentType]


def print_json(data: Any) -> None:
    """Stable machine output: plain JSON on stdout, never coloured or wrapped."""
    out().file.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    out().file.flush()


def plain(text: str) -> None:
    """Text exactly as given on stdout, ending in one newline; no markup, wrapping or colour."""
    out().file.write(text if text.endswith("\n") else text + "\n")
    out().file.flush()


def error(exc: LlmorchError) -> None:
    """One line: scripts grep it, and the hint says what to do next."""
    err().print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False)


def status(text: str) -> None:
    """A progress note (a tool being called); stderr, so it never mixes into the answer."""
    err().print(text, style="dim", markup=False, highlight=False)


def warning(text: str) -> None:
    """Something that went wrong beside the command's own work, which still succeeded or failed
    on its own terms (a notification that was not delivered)."""
    err().print(f"[yellow]warning:[/] {escape(text)}", markup=True, highlight=False)


def note(text: str) -> None:
    """Something the user should know about a run that still succeeded (a fallback model answered)."""
    status(f"note: {text}")


def settings_table(rows: list[tuple[str, Any, str]], file: Path | None) -> None:
    if not out().is_terminal:
        # One whole line per key, so `config show | grep base_url` finds the value uncut.
        plain(
            "\n".join(
                f"{key} = {json.dumps(value, default=str)}  # {src}" for key, value, src in rows
            )
        )
        return
    table = Table(title=f"config file: {file or 'none'}", title_justify="left", expand=False)
    table.add_column("key", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("source", style="dim", overflow="fold")
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
    # Hits from two ingested folders may share a path; then each says which folder it is from.
    several_roots = len({hit.root for hit in hits}) > 1
    for n, hit in enumerate(hits, 1):
        note = f"{Path(hit.root).name}/{hit.citation()}" if several_roots else hit.citation()
        table.add_row(str(n), f"{hit.score:.3f}", escape(note), escape(hit.snippet))
    out().print(table)


_REDRAW_EVERY_S = 1 / 12
"""Markdown is re-rendered whole on each draw; a dozen draws a second look smooth."""


class AnswerView:
    """Shows an answer as it streams: Markdown on a terminal, plain text when piped.

    On a terminal only the last screenful is live (redrawn as words arrive); lines above it are
    printed once. A Live taller than the screen cannot be redrawn, and Rich's
    vertical_overflow="visible" then copies it into the scrollback on every refresh (rich#3263).
    Reasoning (`--show-thinking`) goes to stderr, dimmed, so stdout stays the answer alone.
    """

    def __init__(self, *, show_thinking: bool = False) -> None:
        self._show_thinking = show_thinking
        self._parts: list[str] = []
        self._live: Live | None = None
        self._printed = 0  # rendered lines already printed above the live part
        self._drawn_at = 0.0
        self._wrote_plain = False
        self._mid_thought = False
        self._spinner: Status | None = None

    def waiting(self) -> None:
        """A spinner on stderr until the first word: a local model can take many seconds to start.

        Only on a terminal; it is transient, so nothing of it stays on screen or reaches a pipe."""
        console = err()
        if console.is_terminal and self._spinner is None:
            self._spinner = console.status("waiting for the model…", spinner="dots")
            self._spinner.start()

    def pause(self) -> None:
        """Stop the spinner so a question (tool approval) can be asked on the terminal."""
        self._stop_waiting()

    def _stop_waiting(self) -> None:
        # Rich allows one live display at a time: the spinner goes before the answer's starts.
        if self._spinner is not None:
            self._spinner.stop()
            self._spinner = None

    def text(self, delta: str) -> None:
        self._stop_waiting()
        self._end_thought()
        self._parts.append(delta)
        console = out()
        if not console.is_terminal:
            console.file.write(delta)
            console.file.flush()
            self._wrote_plain = True
            return
        if self._live is None:
            from rich.live import Live

            self._live = Live(console=console, auto_refresh=False)
            self._live.start()
        if time.monotonic() - self._drawn_at >= _REDRAW_EVERY_S:
            self._draw(self._live)

    def _draw(self, live: Live) -> None:
        from rich.markdown import Markdown
        from rich.segment import SegmentLines

        console = live.console
        rendered = console.render_lines(Markdown("".join(self._parts)), pad=False)
        lines = [_unpadded(line) for line in rendered]
        settled = max(len(lines) - max(console.height - 1, 1), self._printed)
        # The new live part is set first so the print below redraws the screen once.
        live.update(SegmentLines(lines[settled:], new_lines=True))
        if settled > self._printed:
            console.print(SegmentLines(lines[self._printed : settled], new_lines=True))
            self._printed = settled
        else:
            live.refresh()
        self._drawn_at = time.monotonic()

    def thinking(self, delta: str) -> None:
        if self._show_thinking:
            self._stop_waiting()
            err().print(delta, style="dim", end="", markup=False, highlight=False)
            self._mid_thought = True

    def _end_thought(self) -> None:
        """End the thoughts' last line: the live answer redraws the line it starts on."""
        if self._mid_thought:
            err().line()
            self._mid_thought = False

    def finish(self) -> None:
        """Draw the rest and stop the live display (also after Ctrl-C); end the last line."""
        self._stop_waiting()
        self._end_thought()
        if self._live is not None:
            self._draw(self._live)
            self._live.stop()
            self._live = None
        elif self._wrote_plain and not "".join(self._parts).endswith("\n"):
            out().file.write("\n")
            out().file.flush()
        self._parts.clear()
        self._printed = 0
        self._drawn_at = 0.0
        self._wrote_plain = False


def _unpadded(line: list[Segment]) -> list[Segment]:
    """The line without the spaces Rich pads it with to the full width, which a terminal made
    narrower would re-wrap into a blank row under every line. Code block backgrounds stay."""
    from rich.segment import Segment

    line = list(line)
    while line:
        last = line[-1]
        if last.control or (last.style is not None and last.style.bgcolor is not None):
            break
        if text := last.text.rstrip(" "):
            line[-1] = Segment(text, last.style)
            break
        line.pop()
    return line


def sources(items: list[Source], *, with_snippets: bool = False) -> None:
    """Numbered citations the answer's [n] marks point at; sources the answer did not cite are dimmed."""
    if not items:
        return
    console = out()
    console.print("\nSources:", style="bold", markup=False, highlight=False)
    for source in items:
        style = None if source.cited else "dim"
        console.print(f"[{source.n}] {source.citation}", style=style, markup=False, highlight=False)
        if with_snippets and source.snippet:
            from rich.padding import Padding
            from rich.text import Text

            # Wrapped snippet lines keep the indent, so each source's number stands out.
            snippet = Text(source.snippet, style="dim")
            console.print(Padding(snippet, (0, 0, 0, 4), expand=False), highlight=False)


def related_notes(note: str, related: list[RelatedNote]) -> None:
    """A note's neighbours in the link graph, one per line: relation, path, title."""
    if not related:
        err().print(f"{escape(note)}: no links to or from other indexed notes")
        return
    for r in related:
        out().print(f"{r.relation:<12} {escape(r.path)}  [dim]{escape(r.title)}[/dim]")


class IngestProgressBar:
    """A progress bar on stderr while files are indexed; nothing at all when stderr is not a terminal."""

    def __init__(self) -> None:
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> IngestProgressBar:
        if err().is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("indexing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                TextColumn("[dim]{task.fields[path]}", markup=True),
                console=err(),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task("ingest", total=None, path="", rate="")
        return self

    def update(self, done: int, total: int, path: str, chunks_per_s: float | None = None) -> None:
        if self._progress is not None and self._task is not None:
            rate = f"{chunks_per_s:,.0f} chunks/s" if chunks_per_s else ""
            self._progress.update(
                self._task, completed=done, total=total, path=escape(path), rate=rate
            )

    def __exit__(self, *_: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def ingest_summary(summary: IngestSummary) -> None:
    """What changed, as a table, then every skipped file and warning with its reason."""
    verb = "would be " if summary.dry_run else ""
    table = Table(
        title=f"collection {summary.collection}" + (" (dry run)" if summary.dry_run else ""),
        title_justify="left",
        show_header=False,
    )
    table.add_column("what", style="cyan")
    table.add_column("count", justify="right")
    table.add_row(f"{verb}added", str(len(summary.added)))
    table.add_row(f"{verb}updated", str(len(summary.updated)))
    table.add_row("unchanged", str(summary.unchanged))
    table.add_row(f"{verb}deleted", str(len(summary.deleted)))
    table.add_row("skipped", str(len(summary.skipped)))
    table.add_row("chunks written", str(summary.chunks_written))
    table.add_row("chunks in collection", str(summary.chunks_total))
    table.add_row("seconds", f"{summary.seconds:.2f}")
    out().print(table)
    for title, issues in (("skipped", summary.skipped), ("warnings", summary.warnings)):
        if not issues:
            continue
        detail = Table(title=title, title_justify="left")
        detail.add_column("file", style="cyan", overflow="fold")
        detail.add_column("reason", overflow="fold")
        for issue in issues:
            detail.add_row(escape(issue.path), escape(issue.reason))
        out().print(detail)


def tools_table(definitions: list[ToolDefinition]) -> None:
    table = Table(expand=False)
    table.add_column("tool", style="cyan", no_wrap=True)
    table.add_column("arguments")
    table.add_column("description", overflow="fold")
    for d in definitions:
        props: dict[str, Any] = d.parameters.get("properties", {})
        required = set(d.parameters.get("required", []))
        args = ", ".join(name if name in required else f"[{name}]" for name in props)
        table.add_row(d.name, escape(args), escape(d.description))
    out().print(table)


def profiles_table(checks: list[ProfileHealth]) -> None:
    """`llmorch models`: one row per profile; why an unreachable one is down, in its own words."""
    table = Table(expand=False)
    table.add_column("profile", style="cyan", no_wrap=True)
    table.add_column("provider")
    table.add_column("status", no_wrap=True)
    table.add_column("ms", justify="right")
    table.add_column("models", overflow="fold")
    table.add_column("tools · schema · context", no_wrap=True)
    for c in checks:
        caps = c.capabilities
        told = " · ".join(
            "?" if v is None else ("yes" if v is True else "no" if v is False else str(v))
            for v in (caps.tools, caps.json_schema, caps.context_length)
        )
        status = "[green]up[/]" if c.reachable else f"[red]down[/] {escape(c.reason or '')}"
        listed = ", ".join(c.models) if c.reachable else escape(c.base_url)
        latency = "" if c.latency_ms is None else f"{c.latency_ms:.0f}"
        table.add_row(c.name, c.provider, status, latency, escape(listed), told)
    out().print(table)


def approval_question(name: str, arguments: Mapping[str, Any]) -> str:
    """Asks on the terminal whether a tool may run; returns what the user typed (stdin)."""
    brief = json.dumps(dict(arguments), ensure_ascii=False)
    if len(brief) > 300:
        brief = brief[:300] + "…"
    console = err()
    console.print(
        f"[bold yellow]allow[/] [cyan]{escape(name)}[/] {escape(brief)}?", highlight=False
    )
    from rich.text import Text

    return console.input(Text("[y]es / [n]o / [a]lways for this tool in this session: "))


def workflows_table(workflows: list[AnyWorkflow], broken: list[BrokenWorkflow]) -> None:
    table = Table(expand=False)
    table.add_column("workflow", style="cyan", no_wrap=True)
    table.add_column("description", overflow="fold")
    table.add_column("source", style="dim", overflow="fold")
    for w in workflows:
        table.add_row(w.name, escape(w.description), escape(w.source))
    out().print(table)
    for b in broken:
        name = f" ({b.name})" if b.name else ""
        err().print(
            f"[bold red]broken:[/] {escape(b.source)}{escape(name)}: {escape(b.reason)}",
            markup=True,
            highlight=False,
        )


def workflow_details(details: dict[str, Any]) -> None:
    """Name, description and steps as text; the two schemas as JSON, which is what they are."""
    console = out()
    console.print(f"{details['name']} — {details['description']}", markup=False, highlight=False)
    console.print(f"source: {details['source']}", style="dim", markup=False, highlight=False)
    console.print("steps: " + " → ".join(details["steps"]), markup=False, highlight=False)
    for title in ("input_schema", "output_schema"):
        console.print(f"\n{title.replace('_', ' ')}:", style="bold", markup=False)
        plain(json.dumps(details[title], ensure_ascii=False, indent=2))


def workflow_output(text: str, found: list[Source]) -> None:
    """A workflow's text result: Markdown on a terminal, exactly as written when piped."""
    console = out()
    if console.is_terminal:
        from rich.markdown import Markdown

        console.print(Markdown(text))
    else:
        plain(text)
    sources(found)


class StepView:
    """Each step of a running workflow with its state and duration, live on stderr; nothing
    when stderr is not a terminal (piped, only the result is printed)."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[str, str, float | None]] = {}
        self._started: dict[str, float] = {}
        self._live: Live | None = None

    def __enter__(self) -> StepView:
        if err().is_terminal:
            from rich.live import Live

            self._live = Live(self._table(), console=err(), refresh_per_second=8, transient=False)
            self._live.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._live is not None:
            self._live.update(self._table(), refresh=True)
            self._live.stop()

    def step_started(self, name: str, span_id: str) -> None:
        if self._live is None:
            return
        self._started[span_id] = time.monotonic()
        self._rows[span_id] = (name, "running", None)
        self._live.update(self._table())

    def step_ended(self, name: str, span_id: str, *, ok: bool, duration_ms: float) -> None:
        if self._live is None:
            return
        self._rows[span_id] = (name, "done" if ok else "failed", duration_ms)
        self._live.update(self._table())

    def _table(self) -> Table:
        table = Table.grid(padding=(0, 2))
        styles = {"running": "yellow", "done": "green", "failed": "bold red"}
        for span_id, (name, state, duration_ms) in self._rows.items():
            if duration_ms is None:
                duration_ms = (time.monotonic() - self._started[span_id]) * 1000
            table.add_row(
                f"[{styles[state]}]{state}[/]", escape(name), f"[dim]{duration_ms / 1000:.1f}s[/]"
            )
        return table
