"""`research`: plan sub-questions, search and answer each concurrently, synthesise one cited report.

plan (structured output) → per sub-question, at most `CONCURRENCY` at once: search → answer from its
own passages → synthesise. Passages are numbered in the run's one SourceList, so a report's [n]
marks mean the same source in every sub-answer and in the final list.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, Field

from llmorch.llm.messages import SystemMessage, UserMessage
from llmorch.llm.stream import TextDelta
from llmorch.llm.structured import structured_output, system_for_json
from llmorch.pipeline import Pipeline, step
from llmorch.retrieval.hits import SearchRequest
from llmorch.workflows.citations import Source, mark_cited, number_citations, passages_block
from llmorch.workflows.definition import Workflow, WorkflowContext

CONCURRENCY = 4
"""Sub-questions searched and answered at once: enough to overlap, few enough for a local server."""
PLAN_TOKENS, ANSWER_TOKENS, REPORT_TOKENS = 300, 400, 800
"""Caps on each answer's length, so a rambling small model cannot run a step for minutes."""


class ResearchInput(BaseModel):
    question: str = Field(min_length=1, description="What to research in the notes.")
    max_questions: int = Field(default=4, ge=2, le=5, description="Sub-questions to plan, at most.")
    limit: int = Field(default=4, ge=1, le=20, description="Passages per sub-question.")
    tags: list[str] = Field(default_factory=list[str], description="Only notes with these tags.")


class SubAnswer(BaseModel):
    question: str
    answer: str


class ResearchOutput(BaseModel):
    question: str
    report: str = Field(description="The synthesised report, citing sources as [n].")
    sub_answers: list[SubAnswer]
    sources: list[Source]


class Plan(BaseModel):
    """What the model is asked for: the sub-questions worth searching the notes for."""

    sub_questions: list[str] = Field(min_length=1, max_length=5)


@dataclass(frozen=True)
class SubQuestion:
    request: ResearchInput
    text: str


@dataclass(frozen=True)
class Found:
    sub: SubQuestion
    sources: list[Source]


@dataclass(frozen=True)
class Answered:
    sub: SubQuestion
    answer: str


_PLAN_TASK = (
    "Split the user's research question into 2 to 5 short sub-questions, each answerable by "
    "searching their notes on its own."
)
_ANSWER_SYSTEM = (
    "Answer the question using only the numbered passages. Cite each claim's passage by its "
    "number in square brackets, like [3]. If the passages do not answer it, say so in one line."
)
_REPORT_SYSTEM = (
    "Write a short report answering the research question from the findings below. Keep every "
    "[n] citation the findings carry, next to the claim it supports; add no others."
)


@step(name="plan")
async def plan(request: ResearchInput, ctx: WorkflowContext) -> list[SubQuestion]:
    """Ask for sub-questions; keep at most `max_questions` distinct ones (the question itself if none)."""
    messages = [system_for_json(_PLAN_TASK), UserMessage(content=request.question)]
    planned = await structured_output(ctx.runtime.llm(), messages, Plan, max_tokens=PLAN_TOKENS)
    unique = list(dict.fromkeys(q.strip() for q in planned.value.sub_questions if q.strip()))
    chosen = unique[: request.max_questions] or [request.question]
    if ctx.on_status is not None:
        ctx.on_status(f"researching {len(chosen)} sub-questions")
    return [SubQuestion(request, text) for text in chosen]


@step(name="search")
async def search(sub: SubQuestion, ctx: WorkflowContext) -> Found:
    query = SearchRequest(query=sub.text, limit=sub.request.limit, tags=sub.request.tags)
    hits = await ctx.knowledge.search(query)
    return Found(sub, ctx.sources.add(hits))


@step(name="answer")
async def answer(found: Found, ctx: WorkflowContext) -> Answered:
    """Answer one sub-question from its own passages, numbered as the whole run numbers them."""
    if not found.sources:
        return Answered(found.sub, "The notes do not cover this.")
    passages = passages_block(found.sources)
    messages = [
        SystemMessage(content=_ANSWER_SYSTEM),
        UserMessage(content=f"Passages:\n\n{passages}\n\nQuestion: {found.sub.text}"),
    ]
    completion = await ctx.runtime.llm().complete(messages, max_tokens=ANSWER_TOKENS)
    text = number_citations(completion.message.content or "", found.sources)
    return Answered(found.sub, text.strip())


@step(name="synthesise")
async def synthesise(answers: list[Answered], ctx: WorkflowContext) -> ResearchOutput:
    request = answers[0].sub.request
    findings = "\n\n".join(f"## {a.sub.text}\n{a.answer}" for a in answers)
    messages = [
        SystemMessage(content=_REPORT_SYSTEM),
        UserMessage(content=f"Research question: {request.question}\n\nFindings:\n\n{findings}"),
    ]
    completion = await ctx.runtime.llm().complete(messages, max_tokens=REPORT_TOKENS)
    sources = ctx.sources.sources
    report = number_citations(completion.message.content or "", sources).strip()
    if ctx.on_delta is not None:
        ctx.on_delta(TextDelta(report))
    return ResearchOutput(
        question=request.question,
        report=report,
        sub_answers=[SubAnswer(question=a.sub.text, answer=a.answer) for a in answers],
        sources=mark_cited(sources, "\n".join([report, *(a.answer for a in answers)])),
    )


_ONE_SUB_QUESTION = Pipeline.create(search, context=WorkflowContext, name="sub-question").pipe(
    answer
)

PIPELINE = (
    Pipeline.create(plan, context=WorkflowContext, name="research")
    .map(_ONE_SUB_QUESTION.as_step(name="sub-question"), concurrency=CONCURRENCY)
    .pipe(synthesise)
)

WORKFLOW = Workflow(
    name="research",
    description="Plan sub-questions, search your notes for each at once, write one cited report.",
    input_model=ResearchInput,
    output_model=ResearchOutput,
    pipeline=PIPELINE,
    text_field="report",
)
