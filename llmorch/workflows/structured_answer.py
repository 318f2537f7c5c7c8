"""`ask --schema`: the rag answer as a JSON object that validates against the user's schema.

Retrieval is ask's own (prepare → retrieve); the answer step asks for structured output built from
the passages, so the sources are numbered and reported exactly as a prose answer's are. It runs
through `run_workflow` like every ask, so it leaves a run record (not rerunnable: the schema is a
one-off, not a registered workflow).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from llmorch.llm.messages import Message, SystemMessage, Usage, UserMessage
from llmorch.llm.structured import structured_output
from llmorch.pipeline import Pipeline, Step
from llmorch.workflows import prompts
from llmorch.workflows.ask import AskRequest, Retrieved, prepare, retrieve
from llmorch.workflows.citations import Source
from llmorch.workflows.definition import Workflow, WorkflowContext, WorkflowRuntime
from llmorch.workflows.execute import run_workflow

ANSWER_TOKENS = 1000


class StructuredAnswer(BaseModel):
    """What `ask --schema --json` prints; plain `--schema` prints `answer` alone."""

    query: str
    model: str
    answer: dict[str, Any] = Field(description="The answer; it validates against the schema.")
    sources: list[Source]
    usage: Usage
    mode: str = Field(description="'json_schema' (enforced by the server) or 'prompted'.")
    attempts: int
    trace_id: str = ""
    run_id: str | None = None


class StructuredAskRequest(AskRequest):
    """An ask and the JSON Schema its answer must validate against, so the record shows both."""

    answer_schema: dict[str, Any] = Field(
        description="The JSON Schema the answer validates against."
    )


def _answer_as(shape: type[BaseModel]) -> Step[Retrieved, StructuredAnswer, WorkflowContext]:
    async def answer(retrieved: Retrieved, ctx: WorkflowContext) -> StructuredAnswer:
        request = retrieved.request
        messages: list[Message] = [
            SystemMessage(content=prompts.RAG_SYSTEM),
            UserMessage(content=prompts.rag_question(request.query, retrieved.sources)),
        ]
        llm = ctx.runtime.llm()
        result = await structured_output(llm, messages, shape, max_tokens=ANSWER_TOKENS)
        return StructuredAnswer(
            query=request.query,
            model=await llm.model(),
            answer=result.value.model_dump(mode="json"),
            sources=retrieved.sources,
            usage=result.usage,
            mode=result.mode,
            attempts=result.attempts,
        )

    return Step(answer, name="structured_answer")


async def run_structured_ask(
    request: AskRequest, shape: type[BaseModel], runtime: WorkflowRuntime, *, trigger: str
) -> StructuredAnswer:
    """Retrieve as `ask` does, then answer as `shape`; an expected failure raises its error."""
    workflow = Workflow(
        name="ask-structured",
        description="A question answered from the notes as JSON that validates against a schema.",
        input_model=StructuredAskRequest,
        output_model=StructuredAnswer,
        pipeline=Pipeline.create(prepare, context=WorkflowContext, name="ask-structured")
        .pipe(retrieve)
        .pipe(_answer_as(shape)),
    )
    asked = StructuredAskRequest(**request.model_dump(), answer_schema=shape.model_json_schema())
    outcome = await run_workflow(workflow, asked, runtime, trigger=trigger, stream=False)
    return outcome.output.model_copy(
        update={"trace_id": outcome.trace_id, "run_id": outcome.run_id}
    )
