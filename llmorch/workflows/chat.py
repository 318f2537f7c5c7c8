"""A conversation: each question runs the ask workflow with the earlier turns as history, and the
session is saved as JSON after every answer so `chat --resume` can continue it."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from llmorch.errors import ConfigError, LlmError
from llmorch.llm.messages import Message
from llmorch.workflows.ask import AskRequest, AskResult, OnDelta
from llmorch.workflows.asking import run_ask
from llmorch.workflows.citations import Source
from llmorch.workflows.modes import AskMode

if TYPE_CHECKING:
    from collections.abc import Callable

    from llmorch.workflows.runtime import Runtime

HISTORY_MESSAGES = 16
"""Earlier messages sent with each question: enough for follow-ups, small enough for a local model."""


def _now() -> datetime:
    return datetime.now(UTC)


class SavedSession(BaseModel):
    """A session as stored on disk: the conversation plus what is needed to carry on with it."""

    id: str = Field(
        default_factory=lambda: _now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    )
    created: datetime = Field(default_factory=_now)
    updated: datetime = Field(default_factory=_now)
    mode: AskMode = "rag"
    model: str | None = Field(
        default=None, description="Chosen with /model; None: the configured one."
    )
    tags: list[str] = Field(default_factory=list[str], description="The --tags filter in force.")
    collection: str | None = Field(default=None, description="None: the configured one.")
    messages: list[Message] = Field(default_factory=list[Message])
    sources: list[Source] = Field(default_factory=list[Source], description="The last answer's.")


class SessionStore:
    """One JSON file per session in a folder (the state dir's `sessions/`)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def save(self, session: SavedSession) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{session.id}.json"
        tmp = target.with_suffix(".tmp")
        tmp.write_text(session.model_dump_json(indent=2), encoding="utf-8")
        tmp.replace(target)
        return target

    def latest(self) -> SavedSession | None:
        files = sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        if not files:
            return None
        try:
            return SavedSession.model_validate_json(files[-1].read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(
                f"cannot read saved session {files[-1]}: {str(exc).splitlines()[0]}",
                hint="start a new chat without --resume, or delete the file",
            ) from exc


class ChatSession:
    """Questions and answers that build on each other; the REPL drives it, the library could too."""

    def __init__(
        self,
        runtime: Runtime,
        store: SessionStore,
        *,
        mode: AskMode = "rag",
        tags: list[str] | None = None,
        limit: int = 6,
        saved: SavedSession | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.limit = limit
        self.state = saved or SavedSession(mode=mode)
        # A resumed session keeps its filter and collection unless new ones are given.
        self.state.tags = tags or self.state.tags
        self.state.collection = runtime.collection

    @property
    def mode(self) -> AskMode:
        return self.state.mode

    @property
    def messages(self) -> list[Message]:
        return self.state.messages

    @property
    def sources(self) -> list[Source]:
        return self.state.sources

    async def ask(
        self,
        text: str,
        *,
        on_delta: OnDelta | None = None,
        on_status: Callable[[str], None] | None = None,
        stream: bool = True,
    ) -> AskResult:
        """Answer with the conversation so far; only a completed answer joins the history."""
        request = AskRequest(
            query=text,
            mode=self.mode,
            tags=self.state.tags,
            limit=self.limit,
            history=self.messages[-HISTORY_MESSAGES:],
        )
        try:
            result = await run_ask(
                request,
                self.runtime,
                trigger="chat",
                on_delta=on_delta,
                on_status=on_status,
                stream=stream,
            )
        finally:
            await self.runtime.release_knowledge()
        self.state.messages.extend(result.turn)
        self.state.sources = result.sources
        self.save()
        return result

    def reset(self) -> None:
        """Forget the conversation and start a new session (the old one stays saved)."""
        self.state = SavedSession(mode=self.mode, model=self.state.model)

    async def set_model(self, model: str) -> None:
        """Use `model` from the next question on; a name the server does not list is refused."""
        llm = self.runtime.llm()
        offered = await llm.list_models()
        # An empty list proves nothing (some servers list none), so only a real list can refuse.
        if offered and model not in offered:
            raise LlmError(
                f"model {model!r} is not available at {llm.base_url}; "
                f"the server offers: {', '.join(offered)}"
            )
        await self.runtime.set_model(model)
        self.state.model = model

    def save(self) -> Path:
        self.state.updated = _now()
        return self.store.save(self.state)
