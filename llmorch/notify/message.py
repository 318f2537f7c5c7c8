"""What a notification says: the same words whichever target carries them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from llmorch.errors import LlmorchError


@dataclass(frozen=True, slots=True)
class Notification:
    """A finished run as a title and a text; a failure's text is its error, exit code and run id."""

    workflow: str
    ok: bool
    text: str
    run_id: str | None = None
    exit_code: int = 0
    error_kind: str | None = None
    part: str = ""
    """"2/3" for the second of three messages a long notification was split into."""

    @classmethod
    def success(cls, workflow: str, text: str, run_id: str | None) -> Notification:
        return cls(workflow=workflow, ok=True, text=text, run_id=run_id)

    @classmethod
    def failure(cls, workflow: str, error: LlmorchError) -> Notification:
        run = f"run {error.run_id}" if error.run_id else "no run record"
        return cls(
            workflow=workflow,
            ok=False,
            text=f"error: {error}\nexit code {error.exit_code} · {run}",
            run_id=error.run_id,
            exit_code=error.exit_code,
            error_kind=error.kind,
        )

    @property
    def title(self) -> str:
        numbered = f" ({self.part})" if self.part else ""
        return f"llmorch {self.workflow}: {'done' if self.ok else 'failed'}{numbered}"

    def in_parts(self, max_chars: int) -> list[Notification]:
        """Messages of at most `max_chars` as title, blank line and text: this one if it fits,
        else the text cut at paragraphs (else lines) into parts titled "(1/3)", "(2/3)", ..."""
        if len(self.title) + 2 + len(self.text) <= max_chars:
            return [self]
        from llmorch.channels.telegram.markup import split_message

        room = max_chars - len(self.title) - 2 - len(" (99/99)")
        pieces = split_message(self.text, room)
        return [
            replace(self, text=piece, part=f"{number}/{len(pieces)}")
            for number, piece in enumerate(pieces, 1)
        ]

    def to_json(self) -> dict[str, Any]:
        """The body a webhook receives."""
        return {
            "title": self.title,
            "text": self.text,
            "workflow": self.workflow,
            "ok": self.ok,
            "run_id": self.run_id,
            "exit_code": self.exit_code,
            "error_kind": self.error_kind,
        }
