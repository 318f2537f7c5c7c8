"""`llmorch chat`: an interactive conversation over your notes; sessions persist and can be resumed."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption, ModelOption, TagsOption, YesOption
from llmorch.cli.state import AppState
from llmorch.retrieval.tags import split_tags
from llmorch.workflows.modes import AskMode

if TYPE_CHECKING:
    from llmorch.workflows.chat import SavedSession, SessionStore


def chat(
    ctx: typer.Context,
    mode: Annotated[
        AskMode | None,
        typer.Option("--mode", help="rag (default), agent or plain; see `llmorch ask --help`."),
    ] = None,
    no_rag: Annotated[
        bool, typer.Option("--no-rag", help="Ask the model alone (mode plain): no index.")
    ] = False,
    model: ModelOption = None,
    collection: CollectionOption = None,
    tags: TagsOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", "-r", help="Continue the last saved session.")
    ] = False,
    session_name: Annotated[
        str | None,
        typer.Option("--session", "-s", help="Continue the session saved under NAME, or start it."),
    ] = None,
    show_thinking: Annotated[
        bool, typer.Option("--show-thinking", help="Show the model's reasoning.")
    ] = False,
    yes: YesOption = False,
) -> None:
    """Chat with your notes: follow-up questions keep the conversation's context.

    Examples: llmorch chat --resume · llmorch chat --session homelab   (/help inside lists commands)
    """
    import asyncio

    from llmorch import paths

    if not sys.stdin.isatty():  # prompt-toolkit would draw prompts into a pipe
        raise typer.BadParameter(
            "chat needs a terminal; for a question from a pipe or a script use `llmorch ask`",
            param_hint="stdin",
        )
    from llmorch.cli.approval import terminal_approver
    from llmorch.cli.repl import Repl
    from llmorch.workflows.chat import ChatSession, SessionStore
    from llmorch.workflows.runtime import Runtime

    settings = ctx.ensure_object(AppState).settings
    mode = "plain" if no_rag else mode
    store = SessionStore(paths.state_dir() / "sessions")
    saved = _saved_session(store, session_name, resume=resume)
    if saved is not None:
        saved.mode = mode or saved.mode
        render.status(f"resuming session {saved.name or saved.id} ({len(saved.messages)} messages)")

    async def run() -> None:
        runtime = Runtime(
            settings,
            model=model or (saved.model if saved else None),
            collection=collection or (saved.collection if saved else None),
            on_note=render.note,
            ask_approval=terminal_approver(),
            assume_yes=yes,
        )
        async with runtime:
            session = ChatSession(
                runtime, store, mode=mode or "rag", tags=split_tags(tags), saved=saved
            )
            session.state.name = session.state.name or session_name
            repl = Repl(session, paths.state_dir() / "chat_history", show_thinking=show_thinking)
            await repl.run()

    asyncio.run(run())


def _saved_session(store: SessionStore, name: str | None, *, resume: bool) -> SavedSession | None:
    """The session to continue: the one named, else the latest with --resume, else none."""
    if name is not None:
        saved = store.load(name)
        if saved is None:
            render.status(f"new session {name}")
        return saved
    saved = store.latest() if resume else None
    if resume and saved is None:
        render.status("no saved session to resume; starting a new one")
    return saved
