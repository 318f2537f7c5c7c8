"""The chat REPL: prompt-toolkit input with history and multi-line editing, slash commands, and
Ctrl-C that cancels the answer being written without ending the session."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llmorch.cli import render
from llmorch.errors import LlmorchError

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from llmorch.workflows.ask import Delta
    from llmorch.workflows.chat import ChatSession

_T = TypeVar("_T")

HELP = """\
Enter sends; Alt-Enter (or Esc then Enter) starts a new line. Ctrl-C cancels an answer, Ctrl-D exits.
  /help           this help
  /reset          start a new conversation
  /sources        the sources of the last answer
  /tools          the tools the agent mode can call
  /model [NAME]   show or switch the model
  /save           save the session and print where
  /exit           leave (the session is saved after every answer)"""


class Repl:
    def __init__(
        self, session: ChatSession, history_file: Path, *, show_thinking: bool = False
    ) -> None:
        self.session = session
        self.history_file = history_file
        self.show_thinking = show_thinking
        self._commands: dict[str, Callable[[str], Coroutine[Any, Any, bool]]] = {
            "/help": self._help,
            "/reset": self._reset,
            "/sources": self._sources,
            "/tools": self._tools,
            "/model": self._model,
            "/save": self._save,
            "/exit": self._exit,
            "/quit": self._exit,
        }

    async def run(self) -> None:
        prompt = self._prompt_session()
        render.status(f"llmorch chat ({self.session.mode} mode) — /help for commands, Ctrl-D exits")
        while True:
            try:
                text = (await prompt.prompt_async("you> ")).strip()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line, like a shell
            except EOFError:
                return
            if not text:
                continue
            if text.startswith("/"):
                if not await self._command(text):
                    return
                continue
            await self._answer(text)

    def _prompt_session(self) -> PromptSession[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.key_binding.key_processor import KeyPressEvent

        bindings = KeyBindings()

        @bindings.add("escape", "enter")
        def _newline(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            event.current_buffer.insert_text("\n")

        self.history_file.parent.mkdir(parents=True, exist_ok=True)
        return PromptSession(
            history=FileHistory(str(self.history_file)),
            key_bindings=bindings,
            prompt_continuation="   … ",
        )

    async def _answer(self, text: str) -> None:
        """One turn, as a task that Ctrl-C cancels; the conversation keeps only finished answers."""
        from llmorch.llm.stream import ReasoningDelta
        from llmorch.workflows.ask import status_note

        view = render.AnswerView(show_thinking=self.show_thinking)
        view.waiting()

        def on_delta(delta: Delta) -> None:
            if isinstance(delta, ReasoningDelta):
                view.thinking(delta.text)
            else:
                view.text(delta.text)

        try:
            result = await _interruptible(
                self.session.ask(text, on_delta=on_delta, on_status=render.status)
            )
        except asyncio.CancelledError:
            view.finish()
            render.status("(answer cancelled; the conversation continues)")
            return
        except LlmorchError as exc:
            view.finish()
            render.error(exc)
            return
        view.finish()
        if note := status_note(result):
            render.status(f"note: {note}")
        if result.sources:
            cited = sum(1 for s in result.sources if s.cited)
            render.status(f"({len(result.sources)} sources, {cited} cited — /sources lists them)")

    async def _command(self, line: str) -> bool:
        """Run a slash command; False means leave the REPL."""
        name, _, argument = line.partition(" ")
        handler = self._commands.get(name.lower())
        if handler is None:
            render.status(f"unknown command {name}; /help lists them")
            return True
        try:
            return await _interruptible(handler(argument.strip()))
        except asyncio.CancelledError:  # e.g. /model waiting on a server that does not answer
            render.status(f"({name} cancelled)")
            return True
        except LlmorchError as exc:  # e.g. /model with a name the server does not offer
            render.error(exc)
            return True

    async def _help(self, _: str) -> bool:
        render.plain(HELP)
        return True

    async def _reset(self, _: str) -> bool:
        self.session.reset()
        render.status("new conversation")
        return True

    async def _sources(self, _: str) -> bool:
        if not self.session.sources:
            render.status("no sources yet: ask something first")
        else:
            render.sources(self.session.sources, with_snippets=True)
        return True

    async def _tools(self, _: str) -> bool:
        registry = await self.session.runtime.tool_registry()
        render.tools_table(registry.definitions())
        return True

    async def _model(self, name: str) -> bool:
        if not name:  # the name in use, also when it is the first one the server lists
            render.plain(await self.session.runtime.llm().model())
            return True
        await self.session.set_model(name)
        render.status(f"model: {name}")
        return True

    async def _save(self, _: str) -> bool:
        render.plain(str(self.session.save()))
        return True

    async def _exit(self, _: str) -> bool:
        return False


async def _interruptible(work: Coroutine[Any, Any, _T]) -> _T:
    """Run `work` as a task that Ctrl-C cancels (CancelledError here): it ends the task, not the REPL."""
    task = asyncio.create_task(work)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    try:
        return await task
    finally:
        loop.remove_signal_handler(signal.SIGINT)
