"""`llmorch ask`: one question, answered from the notes, streamed to the terminal or printed as JSON."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer

from llmorch.cli import render
from llmorch.cli.notifying import Notifier, NotifyOnFailureOption, NotifyOption
from llmorch.cli.options import CollectionOption, ModelOption, TagsOption, YesOption
from llmorch.cli.state import AppState
from llmorch.errors import LlmorchError
from llmorch.retrieval.tags import split_tags
from llmorch.workflows.modes import AskMode

if TYPE_CHECKING:
    from pydantic import BaseModel

    from llmorch.workflows.ask import AskRequest, AskResult, Delta
    from llmorch.workflows.runtime import Runtime
    from llmorch.workflows.structured_answer import StructuredAnswer


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
            help="Print answer, sources, tool calls, usage, timings, trace_id, run_id and status "
            "as JSON.",
        ),
    ] = False,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            metavar="SPEC",
            help="Answer as JSON that validates against SPEC: a JSON Schema file, inline JSON, "
            'or fields like "title, due: date, priority: int" (rag mode).',
        ),
    ] = None,
    yes: YesOption = False,
    notify: NotifyOption = None,
    notify_on_failure: NotifyOnFailureOption = None,
) -> None:
    r"""Answer a question from your notes, citing them as \[n].

    Examples: llmorch ask -q "when do backups run?" ·
    echo "summarise my notes on restic" | llmorch ask --json ·
    llmorch ask -q "what is due?" --schema "task, due: date" ·
    llmorch ask -q "what is due today?" --notify phone
    """
    import asyncio

    from llmorch.cli.approval import terminal_approver
    from llmorch.workflows.ask import AskRequest, status_note
    from llmorch.workflows.runtime import Runtime

    text = _read_query(query)
    state = ctx.ensure_object(AppState)
    settings = state.settings
    request = AskRequest(
        query=text, mode="plain" if no_rag else mode, tags=split_tags(tags), limit=limit
    )
    if schema is not None and request.mode != "rag":
        raise typer.BadParameter("--schema answers in rag mode only", param_hint="'--mode'")
    with Notifier(settings, "ask", notify, notify_on_failure) as notifier:
        if schema is not None:
            runtime = Runtime(
                settings, model=model, collection=collection, opened_index=state.opened_index()
            )
            answer = _ask_structured(runtime, request, schema, as_json)
            notifier.succeeded(
                json.dumps(answer.answer, ensure_ascii=False, indent=2), answer.run_id
            )
            return
        view = None if as_json else render.AnswerView(show_thinking=show_thinking)
        if view is not None:
            view.waiting()
        try:
            runtime = Runtime(
                settings,
                model=model,
                collection=collection,
                on_note=render.note,
                ask_approval=terminal_approver(None if view is None else view.pause),
                assume_yes=yes,
                opened_index=state.opened_index(),
            )
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
        else:
            render.sources(result.sources)
            if note := status_note(result):
                render.status(f"note: {note}")
        notifier.succeeded(result.answer, result.run_id, result.sources)


def _ask_structured(
    runtime: Runtime, request: AskRequest, spec: str, as_json: bool
) -> StructuredAnswer:
    """Print the answer as JSON validating against `spec`; with --json, inside the full record."""
    import asyncio

    from llmorch.llm.schema_spec import model_from_spec

    shape = model_from_spec(spec)  # an invalid schema stops here, before any model call
    result = asyncio.run(_run_structured(runtime, request, shape))
    if as_json:
        render.print_json({**result.model_dump(mode="json"), "exit_code": 0})
    else:
        render.print_json(result.answer)
    return result


async def _run_structured(
    runtime: Runtime, request: AskRequest, shape: type[BaseModel]
) -> StructuredAnswer:
    from llmorch.workflows.structured_answer import run_structured_ask

    async with runtime:
        return await run_structured_ask(request, shape, runtime, trigger="cli")


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
        run_id=error.run_id,
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
