"""Tab completion for the chat REPL: slash commands with their descriptions, then each command's
arguments (model names, modes, saved sessions) from where they live."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    description: str


@dataclass
class SlashCompleter(Completer):
    """Completes `/co` to the commands, and `/command ar` to that command's argument values."""

    commands: list[Command]
    arguments: dict[str, Callable[[], Iterable[str]]] = field(
        default_factory=dict[str, Callable[[], Iterable[str]]]
    )

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        text = document.text_before_cursor
        if not text.startswith("/") or text.startswith("//"):
            return
        name, space, typed = text.partition(" ")
        if not space:
            for command in self.commands:
                if command.name.startswith(name.lower()):
                    yield Completion(
                        command.name,
                        start_position=-len(name),
                        display=command.usage,
                        display_meta=command.description,
                    )
            return
        values = self.arguments.get(name.lower())
        if values is None:
            return
        for value in sorted(set(values())):
            if value.startswith(typed) and value != typed:
                yield Completion(value, start_position=-len(typed))
