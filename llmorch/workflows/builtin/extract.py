"""`extract`: JSON out of text, shaped by a JSON Schema or a short field list.

The schema becomes a pydantic model (llm/schema_spec.py) and the answer comes from structured
output, so it validates or the run fails with the fields that did not.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from llmorch.llm.messages import UserMessage
from llmorch.llm.schema_spec import model_from_spec
from llmorch.llm.structured import structured_output, system_for_json
from llmorch.pipeline import Pipeline, step
from llmorch.workflows.definition import Workflow, WorkflowContext

EXTRACT_TOKENS = 800


class ExtractInput(BaseModel):
    text: str = Field(min_length=1, description="The text to extract from.")
    schema_spec: str = Field(
        alias="schema",
        min_length=1,
        description='A JSON Schema (inline or a .json file) or fields: "title, due: date, n: int".',
    )

    model_config = {"populate_by_name": True}


class ExtractOutput(BaseModel):
    data: dict[str, Any] = Field(
        description="The extracted object; it validates against the schema."
    )
    attempts: int = Field(description="Model answers it took to validate.")


_TASK = "Extract the requested fields from the user's text."


@step(name="extract")
async def extract(request: ExtractInput, ctx: WorkflowContext) -> ExtractOutput:
    shape = model_from_spec(request.schema_spec, name="Extracted")
    messages = [system_for_json(_TASK), UserMessage(content=request.text)]
    result = await structured_output(ctx.runtime.llm(), messages, shape, max_tokens=EXTRACT_TOKENS)
    return ExtractOutput(data=result.value.model_dump(mode="json"), attempts=result.attempts)


PIPELINE = Pipeline.create(extract, context=WorkflowContext, name="extract")

WORKFLOW = Workflow(
    name="extract",
    description="Extract JSON from text by a JSON Schema or a short field list.",
    input_model=ExtractInput,
    output_model=ExtractOutput,
    pipeline=PIPELINE,
)
