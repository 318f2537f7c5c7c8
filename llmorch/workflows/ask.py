"""The `ask` workflow as typed pipelines: rag = prepare → retrieve → answer → cite,
agent = prepare → tool loop → cite. The CLI and chat render what `run_ask` returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field

from llmorch.llm.messages import (
    AssistantMessage,
    Completion,
    Message,
    SystemMessage,
    Usage,
    UserMessage,
)
from llmorch.llm.stream import ReasoningDelta, StreamDone, TextDelta
from llmorch.pipeline import Pipeline, Step, step
from llmorch.retrieval.hits import KnowledgeSearch, SearchHit, SearchRequest
from llmorch.runs.observer import ToolCallRecord
from llmorch.workflows import prompts
from llmorch.workflows.citations import (
    CitationStream,
    Source,
    SourceList,
    mark_cited,
    number_citations,
)
from llmorch.workflows.definition import Delta, HasLlm, OnDelta, WorkflowContext
from llmorch.workflows.modes import AskMode

if TYPE_CHECKING:
    from llmorch.llm.loop import LoopEvent


class Question(BaseModel):
    """The input of the `qa` and `agent` workflows: a question, optionally about tagged notes."""

    query: str = Field(min_length=1, description="The question.")
    tags: list[str] = Field(
        default_factory=list[str], description="Only notes with one of these tags."
    )
    limit: int = Field(default=6, ge=1, le=50, description="Passages to retrieve (rag mode).")
    history: list[Message] = Field(
        default_factory=list[Message], description="Earlier turns of a conversation, oldest first."
    )
    max_tokens: int | None = Field(
        default=None, ge=1, description="Cap on the answer (rag, plain): chat keeps it in context."
    )


class AskRequest(Question):
    """A question and the mode to answer it in: what `ask` and `chat` send."""

    mode: AskMode = "rag"


class AskResult(BaseModel):
    """Everything one answer produced; `--json` prints it as it is (minus the conversation turn)."""

    query: str
    mode: AskMode
    model: str
    provider: str = Field(default="", description="Which provider answered (after any fallback).")
    answer: str
    reasoning: str | None = None
    status: str = Field(
        description="'ok'; 'no_sources' when no note backs the answer; or why the answer stopped "
        "early, e.g. 'max_iterations'."
    )
    sources: list[Source]
    tool_calls: list[ToolCallRecord] = Field(default_factory=list[ToolCallRecord])
    usage: Usage = Field(default_factory=Usage)
    timings_ms: dict[str, float] = Field(default_factory=dict[str, float])
    trace_id: str = ""
    run_id: str | None = Field(default=None, description="The run record's id (`runs show`).")
    turn: list[Message] = Field(
        default_factory=list[Message],
        exclude=True,
        description="What this answer adds to a conversation: the question, tool turns, answer.",
    )


AskContext = WorkflowContext
"""Kept as the name `ask` callers know; the same context every workflow runs with."""


class _NeedsKnowledge(Protocol):
    knowledge: KnowledgeSearch
    sources: SourceList


class _NeedsModel(Protocol):
    runtime: HasLlm
    on_delta: OnDelta | None
    stream: bool


class _NeedsSources(Protocol):
    sources: SourceList


class _NeedsAnswer(_NeedsModel, _NeedsSources, Protocol):
    """The model, and the sources the answer's marks are numbered against."""


class _NeedsAgent(_NeedsModel, _NeedsKnowledge, Protocol):
    on_status: Callable[[str], None] | None


@dataclass(frozen=True)
class Prepared:
    request: Question
    search: SearchRequest


@dataclass(frozen=True)
class Retrieved:
    request: Question
    sources: list[Source]
    status: str = "ok"
    """'no_index' when there was nothing to search; 'plain' when retrieval was not wanted."""


@dataclass(frozen=True)
class Answered:
    request: Question
    completion: Completion
    turn: list[Message]
    tool_calls: list[ToolCallRecord] = field(default_factory=list[ToolCallRecord])
    status: str = "ok"


@step(name="prepare")
async def prepare(request: Question, ctx: object) -> Prepared:
    """Turn the question into the search the mode will run (rag now, agent through its tool)."""
    query = " ".join(request.query.split())
    return Prepared(request, SearchRequest(query=query, limit=request.limit, tags=request.tags))


@step(name="retrieve")
async def retrieve(prepared: Prepared, ctx: _NeedsKnowledge) -> Retrieved:
    """Search the notes; before the first ingest there are none, and the model answers alone."""
    from llmorch.errors import IndexMissingError

    try:
        hits = await ctx.knowledge.search(prepared.search)
    except IndexMissingError:
        return Retrieved(prepared.request, [], status="no_index")
    return Retrieved(prepared.request, ctx.sources.add(hits))


@step(name="skip_retrieval")
async def skip_retrieval(prepared: Prepared, ctx: object) -> Retrieved:
    """Plain mode: the index is never opened."""
    return Retrieved(prepared.request, [], status="plain")


@step(name="answer")
async def answer(retrieved: Retrieved, ctx: _NeedsAnswer) -> Answered:
    """Ask the model with the passages attached; stream its words to `on_delta` as they come,
    with marks that name a source already shown as its number."""
    request = retrieved.request
    if retrieved.status == "ok":
        system, question = (
            prompts.RAG_SYSTEM,
            prompts.rag_question(request.query, retrieved.sources),
        )
    else:
        system, question = prompts.PLAIN_SYSTEM, request.query
    messages: list[Message] = [
        SystemMessage(content=system),
        *request.history,
        UserMessage(content=question),
    ]
    marks = CitationStream(ctx.sources)
    completion = await _complete(
        ctx, messages, _numbered(ctx.on_delta, marks), max_tokens=request.max_tokens
    )
    if ctx.on_delta is not None and (rest := marks.flush()):
        ctx.on_delta(TextDelta(rest))
    # The conversation keeps the bare question: passages are re-retrieved each turn, not replayed.
    turn: list[Message] = [UserMessage(content=request.query), completion.message]
    status = "no_index" if retrieved.status == "no_index" else "ok"
    return Answered(request, completion, turn, status=status)


async def _complete(
    ctx: _NeedsModel, messages: list[Message], on_delta: OnDelta | None, *, max_tokens: int | None
) -> Completion:
    llm = ctx.runtime.llm()
    if not ctx.stream:
        completion = await llm.complete(messages, max_tokens=max_tokens)
        if on_delta is not None:
            if completion.message.reasoning:
                on_delta(ReasoningDelta(completion.message.reasoning))
            on_delta(TextDelta(completion.message.content or ""))
        return completion
    async for event in llm.stream(messages, max_tokens=max_tokens):
        if isinstance(event, StreamDone):
            return event.completion
        if on_delta is not None:
            on_delta(event)
    raise AssertionError("a model stream always ends with StreamDone")


def _numbered(on_delta: OnDelta | None, marks: CitationStream) -> OnDelta | None:
    """`on_delta` with the answer's text passed through `marks` (reasoning goes as it is)."""
    if on_delta is None:
        return None
    show = on_delta

    def emit(delta: Delta) -> None:
        if isinstance(delta, ReasoningDelta):
            show(delta)
        elif shown := marks.feed(delta.text):
            show(TextDelta(shown))

    return emit


class _RecordingSearch:
    """The notes as the agent's tool sees them: each hit is numbered as a source when found, and
    the command's --tags apply when the model gives none."""

    def __init__(self, inner: KnowledgeSearch, sources: SourceList, tags: list[str]) -> None:
        self._inner = inner
        self._sources = sources
        self._tags = tags

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        if self._tags and not request.tags:
            request = request.model_copy(update={"tags": self._tags})
        hits = await self._inner.search(request)
        self._sources.add(hits)
        return hits


@step(name="tool_loop")
async def tool_loop(prepared: Prepared, ctx: _NeedsAgent) -> Answered:
    """Let the model search (and read notes) through the tool loop until it answers."""
    from llmorch.llm.loop import ToolLoop, ToolStarted

    request = prepared.request
    settings = ctx.runtime.settings
    llm = ctx.runtime.llm()
    search = _RecordingSearch(ctx.knowledge, ctx.sources, request.tags)
    loop = ToolLoop(
        llm,
        await ctx.runtime.tool_registry(search),
        max_iterations=settings.llm.max_tool_iterations,
    )
    messages: list[Message] = [
        SystemMessage(content=prompts.AGENT_SYSTEM),
        *request.history,
        UserMessage(content=request.query),
    ]

    def on_event(event: LoopEvent) -> None:
        if ctx.on_status is None:
            return
        if isinstance(event, ToolStarted):
            ctx.on_status(f"→ {event.name} {_brief(event.arguments)}")
        elif not event.record.ok:
            ctx.on_status(f"✗ {event.record.name}: {event.record.error}")

    marks = CitationStream(ctx.sources)
    show = _numbered(ctx.on_delta, marks)

    def on_text(text: str) -> None:
        if show is not None:
            show(TextDelta(text))

    streaming = ctx.stream and ctx.on_delta is not None
    result = await loop.run(
        messages,
        on_text=on_text if streaming else None,
        on_event=on_event,
        on_reasoning=None if show is None else (lambda text: show(ReasoningDelta(text))),
    )
    if not streaming:
        on_text(result.answer)
    if ctx.on_delta is not None and (rest := marks.flush()):
        ctx.on_delta(TextDelta(rest))
    answer = AssistantMessage(content=result.answer, reasoning=result.reasoning)
    completion = Completion(
        message=answer,
        finish_reason=result.finish_reason,
        usage=result.usage,
        model=await llm.model(),
        provider=llm.provider,
    )
    turn = [*result.messages[len(messages) - 1 : -1], answer]
    status = "ok" if result.finish_reason == "answer" else result.finish_reason
    return Answered(request, completion, turn, result.tool_calls, status)


def _brief(arguments: dict[str, Any]) -> str:
    text = ", ".join(f"{k}={v!r}" for k, v in arguments.items())
    return text if len(text) <= 80 else text[:79] + "…"


def cite(mode: AskMode) -> Step[Answered, AskResult, _NeedsSources]:
    """Attach the numbered sources and flag the ones the answer's [n] marks point at."""

    async def run(answered: Answered, ctx: _NeedsSources) -> AskResult:
        message: AssistantMessage = answered.completion.message
        sources = ctx.sources.sources
        text = number_citations(message.content or "", sources)
        # An answer no note backs must say so: the reader would otherwise take it for the notes'
        # (unless notes were not asked for: plain mode).
        unbacked = answered.status == "ok" and not sources and mode != "plain"
        status = "no_sources" if unbacked else answered.status
        return AskResult(
            query=answered.request.query,
            mode=mode,
            model=answered.completion.model,
            provider=answered.completion.provider,
            answer=text,
            reasoning=message.reasoning,
            status=status,
            sources=mark_cited(sources, text),
            tool_calls=answered.tool_calls,
            usage=answered.completion.usage or Usage(),
            turn=answered.turn,
        )

    return Step(run, name="cite")


RAG_PIPELINE = (
    Pipeline.create(prepare, context=AskContext, name="ask-rag")
    .pipe(retrieve)
    .pipe(answer)
    .pipe(cite("rag"))
)
PLAIN_PIPELINE = (
    Pipeline.create(prepare, context=AskContext, name="ask-plain")
    .pipe(skip_retrieval)
    .pipe(answer)
    .pipe(cite("plain"))
)
AGENT_PIPELINE = (
    Pipeline.create(prepare, context=AskContext, name="ask-agent")
    .pipe(tool_loop)
    .pipe(cite("agent"))
)


def status_note(result: AskResult) -> str | None:
    """What a reader should know about an answer that did not end normally; None when it did."""
    if not result.answer.strip():
        return "the model gave no answer; try again, rephrase, or use a larger model"
    return _STATUS_NOTES.get(result.status)


_TOOLS_OFF = "the answer above is its reply once tools were switched off"
NO_INDEX_NOTE = (
    "no notes are indexed yet, so this answer is from the model alone; "
    "index them with `llmorch ingest PATH`"
)
_STATUS_NOTES = {
    "no_sources": "no notes matched, so the answer above is not drawn from your notes",
    "no_index": NO_INDEX_NOTE,
    "length": "the answer was cut off at the model's token limit",
    "max_iterations": "the model kept calling tools up to llm.max_tool_iterations; " + _TOOLS_OFF,
    "repeated_failure": "the model kept repeating a tool call that had failed; " + _TOOLS_OFF,
}
