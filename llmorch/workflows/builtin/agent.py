"""`agent`: the model searches and reads the notes through tools, then answers (`ask --mode agent`)."""

from __future__ import annotations

from llmorch.workflows.ask import AGENT_PIPELINE, AskResult, Question
from llmorch.workflows.definition import Workflow

WORKFLOW = Workflow(
    name="agent",
    description="Let the model search and read your notes with tools, then answer with citations.",
    input_model=Question,
    output_model=AskResult,
    pipeline=AGENT_PIPELINE,
    text_field="answer",
)
