"""`qa`: retrieve passages from the notes, answer from them, cite them as [n] (`ask --mode rag`)."""

from __future__ import annotations

from llmorch.workflows.ask import RAG_PIPELINE, AskResult, Question
from llmorch.workflows.definition import Workflow

WORKFLOW = Workflow(
    name="qa",
    description="Answer a question from your notes, citing the passages it used.",
    input_model=Question,
    output_model=AskResult,
    pipeline=RAG_PIPELINE,
    text_field="answer",
)
