"""Workflows as OpenAI "models" (`llmorch-research`, `llmorch-summarize`, ...): the user's last
message becomes the workflow's input and its output comes back as the assistant's text."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from llmorch.api.errors import HttpError
from llmorch.api.handlers import guarded
from llmorch.api.openai_wire import ChatCompletionBody, ChunkWriter, completion_id, sources_block
from llmorch.api.workflow_routes import run

if TYPE_CHECKING:
    from llmorch.api.state import ServerState
    from llmorch.workflows.execute import WorkflowOutcome
    from llmorch.workflows.registry import AnyWorkflow

_NO_USAGE = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}


async def workflow_completion(
    request: Request, state: ServerState, body: ChatCompletionBody, name: str, question: str
) -> Response:
    workflow = state.registry().get(name)
    data = workflow_input(workflow, question)
    outcome = await guarded(request, state, lambda: run(state, workflow, data, "http"))
    text = workflow_text(workflow, outcome) + sources_block(outcome.sources)
    extension = outcome.to_json()
    if body.stream:
        events = _whole_text_events(ChunkWriter(body.model), text, extension)
        return StreamingResponse(events, media_type="text/event-stream")
    return JSONResponse(
        {
            "id": completion_id(),
            "object": "chat.completion",
            "created": 0,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": _NO_USAGE,
            "llmorch": extension,
        }
    )


def workflow_input(workflow: AnyWorkflow, question: str) -> dict[str, Any]:
    """The message as the workflow's only required field, or as a JSON object of its fields."""
    required = [n for n, f in workflow.input_model.model_fields.items() if f.is_required()]
    if len(required) == 1:
        return {required[0]: question}
    try:
        data = json.loads(question)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items()}  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    fields = ", ".join(required)
    raise HttpError(
        422,
        "invalid_request",
        f"workflow {workflow.name!r} needs the fields {fields}: send them as a JSON object",
    )


def workflow_text(workflow: AnyWorkflow, outcome: WorkflowOutcome[Any]) -> str:
    if workflow.text_field is not None:
        return str(getattr(outcome.output, workflow.text_field))
    return json.dumps(outcome.output.model_dump(mode="json"), indent=2, ensure_ascii=False)


async def _whole_text_events(
    chunk: ChunkWriter, text: str, extension: dict[str, Any]
) -> AsyncGenerator[str]:
    """A finished workflow's answer as a stream: a workflow does not stream its steps' words."""
    yield chunk({"role": "assistant", "content": text})
    yield chunk({}, "stop")
    yield chunk.usage(_NO_USAGE, extension)
    yield "data: [DONE]\n\n"
