"""`summarize`: a note, a folder of notes, a file or given text, map-reduced to fit the model.

Sections are numbered as sources ([n] = file#heading); pieces sized to the context window (from
the server when it says, else `llm.context_length`) are summarised at once, and the summaries
combined, again in pieces, until one remains. Every round is bounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, Field, model_validator

from llmorch.errors import UsageError
from llmorch.ingest.chunking import chunk_markdown
from llmorch.ingest.markdown import parse_note
from llmorch.llm.messages import SystemMessage, UserMessage
from llmorch.llm.stream import TextDelta
from llmorch.pipeline import Pipeline, step
from llmorch.retrieval.hits import SearchHit
from llmorch.workflows.citations import Source, mark_cited, number_citations, passages_block
from llmorch.workflows.definition import HasLlm, Workflow, WorkflowContext

CHARS_PER_TOKEN = 3  # conservative for prose; code and non-Latin scripts pack fewer per token
SUMMARY_TOKENS = 400
_PROMPT_TOKENS = 200  # the instructions around each piece
CONCURRENCY = 2
MAX_ROUNDS = 4
MAX_FILES = 500
NOTE_SUFFIXES = (".md", ".markdown")


class SummarizeInput(BaseModel):
    path: str | None = Field(
        default=None,
        description="A note, a folder of notes or a file; a relative path is also tried in "
        "each note folder, with or without .md.",
    )
    text: str | None = Field(default=None, description="Text to summarise instead of a path.")
    focus: str | None = Field(default=None, description="What the summary should attend to.")

    @model_validator(mode="after")
    def _one_source(self) -> SummarizeInput:
        if (self.path is None) == (self.text is None):
            raise ValueError("give exactly one of path or text")
        return self


class SummarizeOutput(BaseModel):
    summary: str = Field(description="The summary, citing sections as [n].")
    sources: list[Source] = Field(description="The sections, numbered: [n] = file#heading.")
    pieces: int = Field(description="How many pieces the first round summarised.")
    rounds: int = Field(description="Summarising rounds, the last one producing `summary`.")


@dataclass(frozen=True)
class Document:
    path: str
    root: str
    title: str
    body: str


@dataclass(frozen=True)
class Piece:
    """Some text small enough for one model call, and what it should attend to."""

    text: str
    focus: str | None
    budget_chars: int


@dataclass(frozen=True)
class Summarised:
    text: str
    focus: str | None


_SYSTEM = (
    "Summarise the numbered sections below in a few sentences. Keep each [n] number next to "
    "what it supports, like [2]; add no other numbers."
)


@step(name="load")
async def load(request: SummarizeInput, ctx: WorkflowContext) -> list[Piece]:
    """Read the documents, number their sections as sources, and pack them into pieces."""
    budget = await budget_chars(ctx.runtime)
    documents = _documents(request, ctx.runtime)
    sources: list[Source] = []
    for doc in documents:
        chunks = chunk_markdown(doc.body, size=max(200, budget // 2), overlap=0)
        hits = [
            SearchHit(
                path=doc.path, root=doc.root, title=doc.title, heading=chunk.heading,
                snippet=chunk.text[:160], text=chunk.text, score=1.0, chunk_index=i,
            )
            for i, chunk in enumerate(chunks)
        ]  # fmt: skip
        sources += ctx.sources.add(hits)
    if not sources:
        raise UsageError("there is nothing to summarise: the text or notes are empty")
    texts = pack([passages_block([s]) for s in sources], budget)
    return [Piece(t, request.focus, budget) for t in texts]


async def budget_chars(runtime: HasLlm) -> int:
    """Characters of source text one call may carry: the context window less prompt and answer."""
    told = (await runtime.llm().capabilities()).context_length
    tokens = told or runtime.settings.llm.context_length
    return max(1000, (tokens - SUMMARY_TOKENS - _PROMPT_TOKENS) * CHARS_PER_TOKEN)


def pack(texts: list[str], budget: int) -> list[str]:
    """Consecutive texts joined into as few pieces of at most `budget` characters as fit."""
    pieces: list[str] = []
    current = ""
    for text in texts:
        if current and len(current) + 2 + len(text) > budget:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{text}" if current else text[:budget]
    return [*pieces, current] if current else pieces


@step(name="summarise")
async def summarise(piece: Piece, ctx: WorkflowContext) -> Summarised:
    focus = f" Attend to: {piece.focus}." if piece.focus else ""
    messages = [SystemMessage(content=_SYSTEM + focus), UserMessage(content=piece.text)]
    completion = await ctx.runtime.llm().complete(messages, max_tokens=SUMMARY_TOKENS)
    text = number_citations(completion.message.content or "", ctx.sources.sources).strip()
    return Summarised(text, piece.focus)


@step(name="combine")
async def combine(first: list[Summarised], ctx: WorkflowContext) -> SummarizeOutput:
    """Summarise the summaries, in pieces, until one is left (at most MAX_ROUNDS rounds)."""
    summaries = [s.text for s in first]
    focus = first[0].focus if first else None
    budget = await budget_chars(ctx.runtime)
    rounds = 1
    while len(summaries) > 1 and rounds < MAX_ROUNDS:
        rounds += 1
        # The last allowed round takes everything at once, cut to fit, so the loop always ends.
        texts = pack(summaries, budget) if rounds < MAX_ROUNDS else ["\n\n".join(summaries)]
        done = [await summarise.fn(Piece(t[:budget], focus, budget), ctx) for t in texts]
        summaries = [s.text for s in done]
    summary = summaries[0] if summaries else ""
    if ctx.on_delta is not None:
        ctx.on_delta(TextDelta(summary))
    sources = mark_cited(ctx.sources.sources, summary)
    return SummarizeOutput(summary=summary, sources=sources, pieces=len(first), rounds=rounds)


def _documents(request: SummarizeInput, runtime: HasLlm) -> list[Document]:
    if request.text is not None:
        note = parse_note(request.text, "text")
        return [Document("text", "", note.title, note.body)]
    assert request.path is not None  # the validator allows exactly one of them
    found = _resolve(request.path, runtime)
    if found.is_dir():
        files = sorted(p for p in found.rglob("*") if p.suffix.lower() in NOTE_SUFFIXES)
        if len(files) > MAX_FILES:
            raise UsageError(f"{found} holds {len(files)} notes; summarise at most {MAX_FILES}")
        return [_read(file, found) for file in files]
    return [_read(found, found.parent)]


def _resolve(path: str, runtime: HasLlm) -> Path:
    given = Path(path).expanduser()
    candidates = [given]
    if not given.is_absolute():
        for root in runtime.note_roots():
            candidates += [root / given, root / f"{path}.md"]
    for candidate in candidates:
        if candidate.exists():
            return candidate
    raise UsageError(f"no note, folder or file at {path}")


def _read(file: Path, root: Path) -> Document:
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot read {file}: {exc.strerror or exc}") from exc
    note = parse_note(text, file.stem)
    return Document(file.relative_to(root).as_posix(), str(root), note.title, note.body)


PIPELINE = (
    Pipeline.create(load, context=WorkflowContext, name="summarize")
    .map(summarise, concurrency=CONCURRENCY)
    .pipe(combine)
)

WORKFLOW = Workflow(
    name="summarize",
    description="Summarise a note, a folder of notes, a file or text, citing its sections.",
    input_model=SummarizeInput,
    output_model=SummarizeOutput,
    pipeline=PIPELINE,
    text_field="summary",
)
