"""`llmorch ask`: one question, answered from the notes, streamed to the terminal or printed as JSON."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption, ModelOption, TagsOption, split_tags
from llmorch.cli.state import AppState
from llmorch.errors import LlmorchError
from llmorch.workflows.modes import AskMode

if TYPE_CHECKING:
    from llmorch.workflows.ask import AskRequest, AskResult, Delta
    from llmorch.workflows.runtime import Runtime


def ask(
    ctx: typer.Context,
    query: Annotated[
        str | None,
        typer.Option("--query", "-q", help="The question; without it, read from stdin."),
    ] = None,
    mode: Annotated[
        AskMode,
        typer.Option(
            "--mode",
            help="rag: retrieve, then answer from the passages (reliable with small models). "
            "agent: the model searches through the tool loop. plain: the model alone, no notes.",
        ),
    ] = "rag",
    no_rag: Annotated[
        bool, typer.Option("--no-rag", help="Same as --mode plain: the index is never opened.")
    ] = False,
    model: ModelOption = None,
    collection: CollectionOption = None,
    tags: TagsOption = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=50, help="Passages.")] = 6,
    no_stream: Annotated[
        bool, typer.Option("--no-stream", help="Print the answer when complete.")
    ] = False,
    show_thinking: Annotated[
        bool, typer.Option("--show-thinking", help="Show the model's reasoning on stderr.")
    ] = False,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print answer, sources, tool calls, usage, timings, trace_id and status as JSON.",
        ),
    ] = False,
) -> None:
    r"""Answer a question from your notes, citing them as \[n].

    Examples: llmorch ask -q "when do backups run?" ·
    echo "summarise my notes on restic" | llmorch ask --json
    """
    import asyncio

    from llmorch.workflows.ask import AskRequest, status_note
    from llmorch.workflows.runtime import Runtime

    text = _read_query(query)
    settings = ctx.ensure_object(AppState).settings
    request = AskRequest(
        query=text, mode="plain" if no_rag else mode, tags=split_tags(tags), limit=limit
    )
    view = None if as_json else render.AnswerView(show_thinking=show_thinking)
    if view is not None:
        view.waiting()
    try:
        runtime = Runtime(settings, model=model, collection=collection)
        result = asyncio.run(_run(runtime, request, view, stream=not no_stream))
    except (LlmorchError, KeyboardInterrupt) as exc:
        if as_json:
            render.print_json(_failure(request, model or settings.llm.model or "", exc))
        raise
    finally:
        if view is not None:
            view.finish()
    if as_json:
        render.print_json({**result.model_dump(mode="json"), "exit_code": 0})
        return
    render.sources(result.sources)
    if note := status_note(result):
        render.status(f"note: {note}")


async def _run(
    runtime: Runtime, request: AskRequest, view: render.AnswerView | None, *, stream: bool
) -> AskResult:
    from llmorch.llm.stream import ReasoningDelta
    from llmorch.workflows.asking import run_ask

    def on_delta(delta: Delta) -> None:
        if view is None:
            return
        if isinstance(delta, ReasoningDelta):
            view.thinking(delta.text)
        else:
            view.text(delta.text)

    async with runtime:
        return await run_ask(
            request,
            runtime,
            trigger="cli",
            on_delta=on_delta,
            on_status=None if view is None else render.status,
            stream=stream and view is not None,
        )


def _failure(
    request: AskRequest, model: str, exc: LlmorchError | KeyboardInterrupt
) -> dict[str, Any]:
    """The failed run in the shape of an answer, so scripts read the same keys either way."""
    from llmorch.errors import InterruptedRunError
    from llmorch.logging import current_trace_id
    from llmorch.workflows.ask import AskResult

    error = exc if isinstance(exc, LlmorchError) else InterruptedRunError("interrupted")
    empty = AskResult(
        query=request.query,
        mode=request.mode,
        model=model,
        answer="",
        status="error",
        sources=[],
        trace_id=current_trace_id() or "",
    )
    return {
        **empty.model_dump(mode="json"),
        "kind": error.kind,
        "error": str(error),
        "exit_code": error.exit_code,
    }


def _read_query(query: str | None) -> str:
    """The -q value, else stdin when it is piped (`echo q | llmorch ask`, heredocs), else usage."""
    if query is not None and query.strip():
        return query.strip()
    if query is None and not sys.stdin.isatty():
        piped = sys.stdin.read().strip()
        if piped:
            return piped
    raise typer.BadParameter(
        "give a question with -q, or pipe it on stdin", param_hint="'-q' / '--query'"
    )
