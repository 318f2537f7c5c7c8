"""Pipeline logs: every record carries the run's trace id and the step's span id."""

from __future__ import annotations

from typing import Any

from loguru import logger
from pipeline_testkit import RecordedSleep

from llmorch.logging import new_trace_id, trace_context
from llmorch.pipeline import Pipeline, RetryPolicy, StepFailure, step


async def test_step_logs_start_retry_and_failure_with_trace_and_span_ids(
    log_records: list[dict[str, Any]], sleep: RecordedSleep
) -> None:
    @step(name="fetch", retry=RetryPolicy(max_attempts=2, sleep=sleep))
    async def fetch(inp: str, ctx: object) -> str:
        raise StepFailure("busy", "server busy", retryable=True)

    result = await Pipeline.create(fetch, name="ask").execute("q", None)

    step_meta = result.steps[0].meta
    step_logs = [r for r in log_records if r.get("step") == "fetch"]
    messages = [r["message"] for r in step_logs]
    assert messages[0] == "step fetch started"
    assert any("attempt 1 failed: [busy] server busy; retrying" in m for m in messages)
    assert messages[-1] == "step fetch failed: [busy] server busy"
    assert {r["span_id"] for r in step_logs} == {step_meta.span_id}
    assert {r["trace_id"] for r in log_records} == {result.meta.trace_id}
    assert [r["level"] for r in step_logs] == ["DEBUG", "INFO", "INFO"]


async def test_pipeline_reuses_a_trace_id_already_bound_by_the_caller(
    log_records: list[dict[str, Any]],
) -> None:
    @step
    async def echo(inp: str, ctx: object) -> str:
        return inp

    trace_id = new_trace_id()
    with trace_context(trace_id):
        result = await Pipeline.create(echo).pipe(echo).execute("hi", None)

    assert result.meta.trace_id == trace_id
    assert all(s.meta.trace_id == trace_id for s in result.steps)
    assert log_records and {r["trace_id"] for r in log_records} == {trace_id}
    completed = [r for r in log_records if r["message"].startswith("step echo completed")]
    assert len(completed) == 2 and completed[0]["span_id"] != completed[1]["span_id"]


async def test_a_pipeline_nested_in_a_step_logs_child_spans_with_their_parents(
    log_records: list[dict[str, Any]],
) -> None:
    @step
    async def work(inp: str, ctx: object) -> str:
        logger.info("inner work")
        return inp

    inner = Pipeline.create(work, name="inner")
    outer = Pipeline.create(inner.as_step(name="nested"), name="outer")

    result = await outer.execute("hi", None)

    parent_of = {r["span_id"]: r["parent_span_id"] for r in log_records}
    (work_record,) = [r for r in log_records if r["message"] == "inner work"]
    chain = [work_record["span_id"]]
    while parent_of[chain[-1]] is not None:
        chain.append(parent_of[chain[-1]])
    nested = result.steps[0].meta
    assert len(chain) == 4  # work -> inner pipeline -> nested step -> outer pipeline
    assert chain[2:] == [nested.span_id, result.meta.span_id]
    assert nested.parent_span_id == result.meta.span_id
    assert result.meta.parent_span_id is None
