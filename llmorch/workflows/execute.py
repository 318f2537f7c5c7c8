"""The one way any surface runs a workflow: validate the input, build the context, run, report.

CLI, timers, HTTP, MCP and chat all come through `run_workflow`, so every run is validated,
traced, recorded and fails the same way wherever it was triggered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from llmorch.errors import LlmorchError, UsageError, WorkflowError
from llmorch.pipeline import Failure, StepError, StepResult
from llmorch.runs.recorder import RunRecorder
from llmorch.workflows.citations import Source
from llmorch.workflows.definition import OnDelta, Workflow, WorkflowContext, WorkflowRuntime

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


@dataclass(frozen=True)
class WorkflowOutcome(Generic[Out]):
    """A finished run: the validated output plus what a record or `--json` reports beside it."""

    workflow: str
    output: Out
    trace_id: str
    timings_ms: dict[str, float] = field(default_factory=dict[str, float])
    sources: list[Source] = field(default_factory=list[Source])
    run_id: str | None = None
    """The run record's id; None when runs are not recorded (runs.enabled, an unwritable file)."""

    def to_json(self) -> dict[str, Any]:
        """The run as `run --json` and the HTTP API show it."""
        return {
            "workflow": self.workflow,
            "output": self.output.model_dump(mode="json"),
            "sources": [s.model_dump(mode="json") for s in self.sources],
            "timings_ms": self.timings_ms,
            "trace_id": self.trace_id,
            "run_id": self.run_id,
        }


async def run_workflow(
    workflow: Workflow[In, Out],
    raw_input: Mapping[str, Any] | In,
    runtime: WorkflowRuntime,
    *,
    trigger: str,
    on_delta: OnDelta | None = None,
    on_status: Callable[[str], None] | None = None,
    stream: bool = True,
    parent_id: str | None = None,
    run_id: str | None = None,
) -> WorkflowOutcome[Out]:
    """Run `workflow` on `raw_input` (a mapping to validate, or an instance of its input model).

    `trigger` says what started the run ('cli', 'timer', 'http', ...) for its record, and
    `parent_id` the run it repeats (`llmorch runs rerun`), `run_id` the id to record it under when
    the caller names the run before it ends (HTTP `?wait=false`). Raises a
    UsageError naming each invalid field, the LlmorchError a step raised, or a WorkflowError
    when the workflow's own code failed unexpectedly.
    """
    inp = validate_input(workflow, raw_input)
    context = WorkflowContext(
        runtime=runtime,
        knowledge=runtime,
        on_delta=on_delta,
        on_status=on_status,
        stream=stream,
    )
    recorder = RunRecorder(
        runtime.settings,
        workflow=workflow.name,
        # Only the workflow's own fields (a subclass such as AskRequest carries more), so a
        # rerun validates the recorded input as it was run.
        input=inp.model_dump(mode="json", include=set(workflow.input_model.model_fields)),
        trigger=trigger,
        parent_id=parent_id,
        definition_hash=workflow.definition_hash(),
        run_id=run_id,
    )
    try:
        async with recorder:
            result = await workflow.pipeline.execute(inp, context)
            if isinstance(result, Failure):
                raise _failure_error(workflow.name, result.error)
            recorder.output = result.data
    except LlmorchError as exc:
        exc.run_id = recorder.run_id  # so a failure's notification and JSON can name the record
        raise
    timings = {name: round(ms, 2) for name, ms in _durations(result.steps)}
    timings["total"] = round(result.meta.duration_ms, 2)
    return WorkflowOutcome(
        workflow=workflow.name,
        output=result.data,
        trace_id=result.meta.trace_id,
        timings_ms=timings,
        sources=context.sources.sources,
        run_id=recorder.run_id,
    )


def validate_input(workflow: Workflow[In, Any], raw_input: Mapping[str, Any] | In) -> In:
    """The input as the workflow's model; a UsageError listing every bad field otherwise."""
    model = workflow.input_model
    if isinstance(raw_input, model):
        return raw_input
    if isinstance(raw_input, BaseModel):  # another model's instance: validate what it holds
        raw_input = raw_input.model_dump()
    problems = [f"{key}: unknown field" for key in _unknown_fields(model, raw_input)]
    validated: In | None = None
    try:
        validated = model.model_validate(raw_input)
    except ValidationError as exc:
        problems.extend(describe_fields(exc))
    if problems or validated is None:
        raise UsageError(
            f"invalid input for workflow {workflow.name!r}: {'; '.join(problems)}",
            hint=f"see `llmorch workflows show {workflow.name}`",
        )
    return validated


def describe_fields(exc: ValidationError) -> list[str]:
    """`limit: Input should be a valid integer`, one line per bad field."""
    return [
        f"{'.'.join(str(part) for part in error['loc']) or 'input'}: {error['msg']}"
        for error in exc.errors()
    ]


def _unknown_fields(model: type[BaseModel], raw_input: Mapping[str, Any]) -> list[str]:
    """Keys the model would silently drop: a typo must not run the workflow with a default."""
    if model.model_config.get("extra") == "allow":
        return []
    known = {alias for name, f in model.model_fields.items() for alias in (name, f.alias) if alias}
    return [key for key in raw_input if key not in known]


def _failure_error(workflow: str, error: StepError) -> LlmorchError:
    """An expected failure keeps its kind and exit code; anything else is the workflow's bug."""
    if isinstance(error.cause, LlmorchError):
        return error.cause
    where = f"workflow {workflow!r} failed in step {error.step!r}" if error.step else workflow
    failure = WorkflowError(f"{where}: {error.message}", hint="run with -v for the traceback")
    failure.__cause__ = error.cause
    return failure


def _durations(steps: Iterable[StepResult[object]]) -> Iterable[tuple[str, float]]:
    for s in steps:
        yield s.meta.name, s.meta.duration_ms
