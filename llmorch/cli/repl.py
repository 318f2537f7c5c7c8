"""The chat REPL: prompt-toolkit input with history and multi-line editing, slash commands, and
Ctrl-C that cancels the answer being written without ending the session."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llmorch.cli import render
from llmorch.cli.repl_completion import Command
from llmorch.errors import LlmorchError
from llmorch.paths import PRIVATE_FILE, make_private_dir, write_private

if TYPE_CHECKING:
    from prompt_toolkit import PromptSession

    from llmorch.workflows.ask import Delta
    from llmorch.workflows.chat import ChatSession

_T = TypeVar("_T")

KEYS = """\
Enter sends; Alt-Enter (or Esc then Enter) starts a new line; Tab completes commands and their
arguments; Ctrl-R searches earlier input; Ctrl-O edits the message in $EDITOR; Ctrl-C cancels an
answer; Ctrl-D exits. Start a message with // to send it with a leading /."""

COMMANDS = [
    Command("/help", "/help", "this help"),
    Command("/reset", "/reset", "start a new conversation"),
    Command("/sources", "/sources", "the sources of the last answer"),
    Command("/tools", "/tools", "the tools the agent mode can call"),
    Command("/model", "/model [NAME]", "show or switch the model"),
    Command("/mode", "/mode [rag|agent|plain]", "show or switch how questions are answered"),
    Command("/tags", "/tags [TAG,...|-]", "show or set the tag filter (- clears it)"),
    Command("/limit", "/limit [N]", "show or set the passages retrieved per question"),
    Command("/run", "/run WORKFLOW [FIELD=VALUE ...]", "run a workflow; its result joins the chat"),
    Command("/compress", "/compress", "fold the conversation so far into a summary"),
    Command("/edit", "/edit", "write the next message in $EDITOR"),
    Command("/sessions", "/sessions", "list saved sessions"),
    Command("/save", "/save [NAME]", "save the session (under NAME) and print where"),
    Command("/load", "/load NAME", "continue a saved session"),
    Command("/rename", "/rename NAME", "rename this session"),
    Command("/exit", "/exit", "leave (the session is saved after every answer)"),
]
MODES = ("rag", "agent", "plain")


class Repl:
    def __init__(
        self, session: ChatSession, history_file: Path, *, show_thinking: bool = False
    ) -> None:
        self.session = session
        self.history_file = history_file
        self.show_thinking = show_thinking
        self._models: list[str] = []
        self._commands: dict[str, Callable[[str], Coroutine[Any, Any, bool]]] = {
            "/help": self._help,
            "/reset": self._reset,
            "/sources": self._sources,
            "/tools": self._tools,
            "/model": self._model,
            "/mode": self._mode,
            "/tags": self._tags,
            "/limit": self._limit,
            "/run": self._run,
            "/compress": self._compress,
            "/edit": self._edit,
            "/sessions": self._sessions,
            "/save": self._save,
            "/load": self._load,
            "/rename": self._rename,
            "/exit": self._exit,
            "/quit": self._exit,
        }

    async def run(self) -> None:
        prompt = self._prompt_session()
        title = self.session.state.name or "new session"
        render.status(
            f"llmorch chat ({title}, {self.session.mode} mode) — /help for commands, Ctrl-D exits"
        )
        # Model names for Tab, fetched in the background: a slow server must not delay the prompt.
        models = asyncio.create_task(self._fetch_models())
        try:
            await self._loop(prompt)
        finally:
            models.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await models

    async def _loop(self, prompt: PromptSession[str]) -> None:
        while True:
            try:
                text = (await prompt.prompt_async("you> ")).strip()
            except KeyboardInterrupt:
                continue  # Ctrl-C at the prompt clears the line, like a shell
            except EOFError:
                return
            if not text:
                continue
            if text.startswith("//"):  # an escaped leading slash: a message, not a command
                await self._answer(text[1:])
            elif text.startswith("/"):
                if not await self._command(text):
                    return
            else:
                await self._answer(text)

    async def _fetch_models(self) -> None:
        with contextlib.suppress(LlmorchError):
            self._models = await self.session.runtime.llm().list_models()

    def _prompt_session(self) -> PromptSession[str]:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.key_binding import KeyBindings
        from prompt_toolkit.key_binding.key_processor import KeyPressEvent

        from llmorch.cli.repl_completion import SlashCompleter

        bindings = KeyBindings()

        @bindings.add("escape", "enter")
        def _newline(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            event.current_buffer.insert_text("\n")

        @bindings.add("c-o")
        def _editor(event: KeyPressEvent) -> None:  # pyright: ignore[reportUnusedFunction]
            event.current_buffer.open_in_editor()

        completer = SlashCompleter(
            COMMANDS,
            {
                "/model": lambda: self._models,
                "/mode": lambda: MODES,
                "/load": self._session_names,
                "/run": self._workflow_names,
            },
        )
        _private_history(self.history_file)
        return PromptSession(
            history=FileHistory(str(self.history_file)),
            key_bindings=bindings,
            completer=completer,
            complete_while_typing=False,
            prompt_continuation="   … ",
        )

    def _workflow_names(self) -> list[str]:
        from llmorch.workflows.registry import WorkflowRegistry

        return [
            w.name for w in WorkflowRegistry.discover(self.session.runtime.settings).workflows()
        ]

    def _session_names(self) -> list[str]:
        return [s.name or s.id for s in self.session.store.sessions()]

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
        width = max(len(c.usage) for c in COMMANDS) + 2
        render.plain("\n".join([KEYS, *(f"  {c.usage:<{width}}{c.description}" for c in COMMANDS)]))
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

    async def _mode(self, mode: str) -> bool:
        if mode:
            if mode not in MODES:
                render.status(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
                return True
            self.session.state.mode = mode
        render.status(f"mode: {self.session.mode}")
        return True

    async def _tags(self, tags: str) -> bool:
        if tags:
            self.session.set_tags(tags)
        render.status(f"tags: {', '.join(self.session.state.tags) or '(none: all notes)'}")
        return True

    async def _limit(self, limit: str) -> bool:
        if limit:
            if not limit.isdigit():
                render.status("give the number of passages, e.g. /limit 4")
                return True
            self.session.set_limit(int(limit))
        render.status(f"limit: {self.session.state.limit} passages")
        return True

    async def _run(self, line: str) -> bool:
        from llmorch.workflows.field_pairs import read_run_line

        if not line:
            render.status("give a workflow name, e.g. /run qa query='when do backups run?'")
            return True
        name, raw = read_run_line(line, self.session.runtime.settings)
        render.plain(await self.session.run_workflow(name, raw, on_status=render.status))
        return True

    async def _compress(self, _: str) -> bool:
        if not self.session.messages:
            render.status("nothing to compress yet")
            return True
        render.status(await self.session.compress())
        return True

    async def _edit(self, _: str) -> bool:
        text = await asyncio.to_thread(compose_in_editor)
        if text:
            render.plain(f"you> {text}")
            await self._answer(text)
        else:
            render.status("(empty message: nothing sent)")
        return True

    async def _sessions(self, _: str) -> bool:
        saved = self.session.store.sessions()
        if not saved:
            render.status("no saved sessions yet")
        current = self.session.state.id
        for s in saved:
            mark = "*" if s.id == current else " "
            when = s.updated.astimezone().strftime("%Y-%m-%d %H:%M")
            render.plain(f"{mark} {s.name or s.id}  {when}  {len(s.messages)} messages")
        return True

    async def _save(self, name: str) -> bool:
        store = self.session.store
        path = store.rename(self.session.state, name) if name else self.session.save()
        render.plain(str(path))
        return True

    async def _load(self, name: str) -> bool:
        if not name:
            render.status("give a session name; /sessions lists them")
            return True
        saved = self.session.store.load(name)
        if saved is None:
            render.status(f"no session named {name!r}; /sessions lists them")
            return True
        await self.session.load(saved)
        render.status(f"loaded session {name} ({len(saved.messages)} messages)")
        return True

    async def _rename(self, name: str) -> bool:
        if not name:
            render.status("give the new name, e.g. /rename backups")
            return True
        render.plain(str(self.session.store.rename(self.session.state, name)))
        return True

    async def _exit(self, _: str) -> bool:
        return False


def compose_in_editor() -> str:
    """Open $VISUAL or $EDITOR (else vi) on an empty private file; what was saved is the message."""
    import os
    import shlex
    import subprocess
    import tempfile

    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    fd, name = tempfile.mkstemp(prefix="llmorch-message-", suffix=".md")  # 0600
    os.close(fd)
    draft = Path(name)
    try:
        subprocess.run([*shlex.split(editor), str(draft)], check=False)
        return draft.read_text(encoding="utf-8").strip()
    finally:
        draft.unlink(missing_ok=True)


def _private_history(file: Path) -> None:
    """The input history holds every question asked: owner-only, like the sessions."""
    make_private_dir(file.parent)
    if file.exists():
        file.chmod(PRIVATE_FILE)
    else:
        write_private(file, "")


async def _interruptible(work: Coroutine[Any, Any, _T]) -> _T:
    """Run `work` as a task that Ctrl-C cancels (CancelledError here): it ends the task, not the REPL."""
    task = asyncio.create_task(work)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, task.cancel)
    try:
        return await task
    finally:
        loop.remove_signal_handler(signal.SIGINT)
