"""A conversation: each question runs the ask workflow with the earlier turns as history (compressed
when they would not fit the model's context), and the session is saved as JSON after every answer so
`chat --resume` or `chat --session NAME` can continue it."""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, ValidationError

from llmorch.errors import ConfigError, LlmError
from llmorch.llm.messages import AssistantMessage, Message, SystemMessage, UserMessage
from llmorch.paths import make_private_dir, write_private
from llmorch.retrieval.tags import split_tags
from llmorch.workflows import prompts
from llmorch.workflows.ask import AskRequest, AskResult, OnDelta
from llmorch.workflows.asking import run_ask
from llmorch.workflows.citations import Source
from llmorch.workflows.compression import (
    CHARS_PER_TOKEN,
    compress,
    estimate_tokens,
    history_with_summary,
)
from llmorch.workflows.modes import AskMode

if TYPE_CHECKING:
    from llmorch.workflows.runtime import Runtime

SESSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _now() -> datetime:
    return datetime.now(UTC)


class SavedSession(BaseModel):
    """A session as stored on disk: the conversation plus what is needed to carry on with it."""

    id: str = Field(
        default_factory=lambda: _now().strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)
    )
    name: str | None = Field(default=None, description="Given with --session, /save or /rename.")
    created: datetime = Field(default_factory=_now)
    updated: datetime = Field(default_factory=_now)
    mode: AskMode = "rag"
    model: str | None = Field(
        default=None, description="Chosen with /model; None: the configured one."
    )
    tags: list[str] = Field(default_factory=list[str], description="The --tags filter in force.")
    collection: str | None = Field(default=None, description="None: the configured one.")
    limit: int = Field(default=6, ge=1, le=50, description="Passages per question (/limit).")
    summary: str = Field(default="", description="The compressed older turns.")
    messages: list[Message] = Field(default_factory=list[Message])
    sources: list[Source] = Field(default_factory=list[Source], description="The last answer's.")


class SessionStore:
    """One JSON file per session in a private folder (the state dir's `sessions/`), named after the
    session's name when it has one, else its id."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, session: SavedSession) -> Path:
        return self.directory / f"{session.name or session.id}.json"

    def save(self, session: SavedSession) -> Path:
        make_private_dir(self.directory)
        target = self.path(session)
        tmp = target.with_suffix(".tmp")
        write_private(tmp, session.model_dump_json(indent=2))
        tmp.replace(target)
        return target

    def latest(self) -> SavedSession | None:
        files = self._files()
        return self._read(files[-1]) if files else None

    def load(self, name: str) -> SavedSession | None:
        """The session saved under `name` (a name or an id); None when there is none."""
        check_session_name(name)
        target = self.directory / f"{name}.json"
        return self._read(target) if target.is_file() else None

    def sessions(self) -> list[SavedSession]:
        """Every readable saved session, the most recently used last."""
        found: list[SavedSession] = []
        for file in self._files():
            try:
                found.append(self._read(file))
            except ConfigError:
                continue  # one damaged file must not hide the others; /load NAME reports it
        return found

    def rename(self, session: SavedSession, name: str) -> Path:
        """Give `session` a new name; refused when another session has it."""
        check_session_name(name)
        old = self.path(session)
        target = self.directory / f"{name}.json"
        if target.exists() and target != old:
            raise ConfigError(
                f"a session named {name!r} exists already", hint="/load it or pick another name"
            )
        session.name = name
        saved = self.save(session)
        if old != saved:
            old.unlink(missing_ok=True)
        return saved

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime_ns)

    def _read(self, file: Path) -> SavedSession:
        try:
            return SavedSession.model_validate_json(file.read_text(encoding="utf-8"))
        except (OSError, ValidationError) as exc:
            raise ConfigError(
                f"cannot read saved session {file}: {str(exc).splitlines()[0]}",
                hint="start a new chat without --resume, or delete the file",
            ) from exc


def check_session_name(name: str) -> None:
    if not SESSION_NAME.fullmatch(name):
        raise ConfigError(
            f"invalid session name {name!r}",
            hint="use up to 64 letters, digits, '.', '-' and '_', starting with a letter or digit",
        )


@dataclass(frozen=True)
class Fitted:
    """The history a request can carry, and what compression did to get there (None: nothing)."""

    history: list[Message]
    notice: str | None = None


class ChatSession:
    """Questions and answers that build on each other; the REPL drives it, the library could too."""

    def __init__(
        self,
        runtime: Runtime,
        store: SessionStore,
        *,
        mode: AskMode = "rag",
        tags: list[str] | None = None,
        limit: int | None = None,
        saved: SavedSession | None = None,
    ) -> None:
        self.runtime = runtime
        self.store = store
        self.state = saved or SavedSession(mode=mode)
        # A resumed session keeps its filter, limit and collection unless new ones are given.
        self.state.tags = tags or self.state.tags
        self.state.limit = limit or self.state.limit
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
        fitted = await self.fit(text)
        if fitted.notice and on_status is not None:
            on_status(fitted.notice)
        request = AskRequest(
            query=text,
            mode=self.mode,
            tags=self.state.tags,
            limit=self.state.limit,
            history=fitted.history,
            max_tokens=self.runtime.settings.chat.answer_tokens,
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

    async def run_workflow(
        self,
        name: str,
        raw_input: dict[str, Any],
        *,
        on_status: Callable[[str], None] | None = None,
    ) -> str:
        """Run a named workflow (`/run`); its result joins the conversation as an exchange."""
        from llmorch.workflows.execute import run_workflow
        from llmorch.workflows.registry import WorkflowRegistry

        workflow = WorkflowRegistry.discover(self.runtime.settings).get(name)
        try:
            outcome = await run_workflow(
                workflow, raw_input, self.runtime, trigger="chat", on_status=on_status, stream=False
            )
        finally:
            await self.runtime.release_knowledge()
        output = outcome.output
        if workflow.text_field is not None:
            text = str(getattr(output, workflow.text_field))
        else:
            text = output.model_dump_json(indent=2)
        request = f"(ran workflow {name} with {json.dumps(raw_input, ensure_ascii=False)})"
        self.state.messages += [UserMessage(content=request), AssistantMessage(content=text)]
        self.state.sources = outcome.sources
        self.save()
        return text

    async def context_tokens(self) -> int:
        """The model's context window: as its server reports it, else `llm.context_length`."""
        capabilities = await self.runtime.llm().capabilities()
        return capabilities.context_length or self.runtime.settings.llm.context_length

    async def fit(self, question: str) -> Fitted:
        """The history for the next question, compressed first when the request would not fit."""
        context = await self.context_tokens()
        budget = context - self._fixed_cost(question)
        history = history_with_summary(self.state.summary, self.messages)
        if estimate_tokens(history) <= budget:
            return Fitted(history)
        notice = await self.compress(keep_budget=max(budget // 2, 0), context=context)
        history = history_with_summary(self.state.summary, self.messages)
        while history and estimate_tokens(history) > budget:
            history = history[1:]  # a window too small even for the summary: send what fits
        return Fitted(history, notice)

    async def compress(self, *, keep_budget: int = 0, context: int | None = None) -> str:
        """Fold older turns into the summary (all of them by default, as /compress does); the
        one-line notice says what happened."""
        context = context or await self.context_tokens()
        done = await compress(
            self.runtime.llm(),
            self.state.summary,
            self.messages,
            keep_budget=keep_budget,
            context=context,
        )
        self.state.summary = done.summary
        self.state.messages = done.kept
        self.save()
        return (
            f"(compressed {done.folded} earlier messages into a summary to stay within "
            f"the model's {context}-token context)"
        )

    def _fixed_cost(self, question: str) -> int:
        """Tokens the request needs besides the history: prompt, question, passages, the answer."""
        settings = self.runtime.settings
        passages = 0
        if self.mode != "plain":
            passages = self.state.limit * settings.ingest.chunk_size // CHARS_PER_TOKEN
        frame = [SystemMessage(content=prompts.RAG_SYSTEM), UserMessage(content=question)]
        return estimate_tokens(frame) + passages + settings.chat.answer_tokens

    def reset(self) -> None:
        """Forget the conversation and start a new session (the old one stays saved)."""
        self.state = SavedSession(
            mode=self.mode,
            model=self.state.model,
            tags=self.state.tags,
            limit=self.state.limit,
            collection=self.state.collection,
        )

    async def load(self, saved: SavedSession) -> None:
        """Carry on with another saved session, with its model when it chose one."""
        if saved.model is not None and saved.model != self.state.model:
            await self.runtime.set_model(saved.model)
        saved.collection = self.runtime.collection
        self.state = saved

    async def set_model(self, model: str) -> None:
        """Use `model` from the next question on; a name the server does not know is refused."""
        llm = self.runtime.llm()
        offered = await llm.list_models()
        # A server may serve a model under an alias it does not list (llama.cpp lists the file,
        # Ollama `name` for `name:latest`): the name in use was accepted already, so it stays valid.
        known = {*offered, await llm.model(), self.runtime.settings.llm.model}
        known |= {name.removesuffix(":latest") for name in offered}
        # An empty list proves nothing (some servers list none), so only a real list can refuse.
        if offered and model not in known:
            raise LlmError(
                f"model {model!r} is not available at {llm.base_url}; "
                f"the server offers: {', '.join(offered)}"
            )
        await self.runtime.set_model(model)
        self.state.model = model

    def set_tags(self, tags: str) -> None:
        """Filter the next questions' passages by `tags` ("a,b" or "a b"); "-" clears the filter."""
        self.state.tags = [] if tags.strip() == "-" else split_tags([tags])

    def set_limit(self, limit: int) -> None:
        if not 1 <= limit <= 50:
            raise ConfigError(f"limit {limit} is out of range", hint="give 1 to 50 passages")
        self.state.limit = limit

    def save(self) -> Path:
        self.state.updated = _now()
        return self.store.save(self.state)
