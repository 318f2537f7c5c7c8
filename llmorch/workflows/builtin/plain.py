"""`plain`: ask the model alone, without the notes (`ask --no-rag`, chat's `/mode plain`)."""

from __future__ import annotations

from llmorch.workflows.ask import PLAIN_PIPELINE, AskResult, Question
from llmorch.workflows.definition import Workflow

WORKFLOW = Workflow(
    name="plain",
    description="Ask the model a question without searching the notes.",
    input_model=Question,
    output_model=AskResult,
    pipeline=PLAIN_PIPELINE,
    text_field="answer",
)
