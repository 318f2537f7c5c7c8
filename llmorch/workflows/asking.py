"""`ask` and `chat`: a question answered by the built-in workflow its mode names (qa or agent)."""

from __future__ import annotations

import functools
from collections.abc import Callable

from llmorch.workflows.ask import AskRequest, AskResult
from llmorch.workflows.definition import OnDelta, WorkflowRuntime
from llmorch.workflows.execute import run_workflow
from llmorch.workflows.modes import WORKFLOW_FOR_MODE
from llmorch.workflows.registry import AnyWorkflow, WorkflowRegistry


async def run_ask(
    request: AskRequest,
    runtime: WorkflowRuntime,
    *,
    trigger: str,
    on_delta: OnDelta | None = None,
    on_status: Callable[[str], None] | None = None,
    stream: bool = True,
) -> AskResult:
    """Run one question through its mode's workflow; an expected failure raises its LlmorchError."""
    workflow = _builtin(WORKFLOW_FOR_MODE[request.mode])
    outcome = await run_workflow(
        workflow,
        request,
        runtime,
        trigger=trigger,
        on_delta=on_delta,
        on_status=on_status,
        stream=stream,
    )
    result = AskResult.model_validate(outcome.output)
    return result.model_copy(
        update={
            "timings_ms": outcome.timings_ms,
            "trace_id": outcome.trace_id,
            "run_id": outcome.run_id,
        }
    )


@functools.cache
def _builtin(name: str) -> AnyWorkflow:
    """Looked up once: a server answers every question with the same few workflows."""
    return WorkflowRegistry.builtins().get(name)
