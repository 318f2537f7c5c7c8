"""`llmorch chat`: an interactive conversation over your notes; sessions persist and can be resumed."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from llmorch.cli import render
from llmorch.cli.options import CollectionOption, ModelOption, TagsOption, YesOption, split_tags
from llmorch.cli.state import AppState
from llmorch.workflows.modes import AskMode


def chat(
    ctx: typer.Context,
    mode: Annotated[
        AskMode | None,
        typer.Option("--mode", help="rag (default) or agent; see `llmorch ask --help`."),
    ] = None,
    model: ModelOption = None,
    collection: CollectionOption = None,
    tags: TagsOption = None,
    resume: Annotated[
        bool, typer.Option("--resume", "-r", help="Continue the last saved session.")
    ] = False,
    show_thinking: Annotated[
        bool, typer.Option("--show-thinking", help="Show the model's reasoning.")
    ] = False,
    yes: YesOption = False,
) -> None:
    """Chat with your notes: follow-up questions keep the conversation's context.

    Example: llmorch chat --resume   (then /help inside for commands)
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
    store = SessionStore(paths.state_dir() / "sessions")
    saved = store.latest() if resume else None
    if resume and saved is None:
        render.status("no saved session to resume; starting a new one")
    if saved is not None:
        saved.mode = mode or saved.mode
        render.status(f"resuming session {saved.id} ({len(saved.messages)} messages)")

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
            repl = Repl(session, paths.state_dir() / "chat_history", show_thinking=show_thinking)
            await repl.run()

    asyncio.run(run())
