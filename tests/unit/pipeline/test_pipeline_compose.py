"""Pipelines: pipe, branch, parallel, map, nesting, and how failures end a run."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from llmorch.pipeline import (
    Failure,
    Pipeline,
    Step,
    StepFailedError,
    StepFailure,
    Success,
    step,
)


@dataclass
class Ctx:
    store: dict[str, str] = field(default_factory=dict[str, str])


@step
async def parse(inp: str, ctx: object) -> int:
    return int(inp)


@step
async def double(inp: int, ctx: object) -> int:
    return inp * 2


@step
async def describe(inp: int, ctx: Ctx) -> str:
    return ctx.store.get(str(inp), "unknown")


@step
async def digits(inp: int, ctx: object) -> list[int]:
    return [int(d) for d in str(inp)]


async def test_pipe_feeds_each_output_to_the_next_step() -> None:
    pipeline = Pipeline.create(parse, context=Ctx, name="demo").pipe(double).pipe(describe)

    result = await pipeline.execute("21", Ctx(store={"42": "the answer"}))

    assert result.unwrap() == "the answer"
    assert result.meta.name == "demo"
    assert [s.meta.name for s in result.steps] == ["parse", "double", "describe"]


async def test_first_failure_ends_the_run_and_later_steps_never_start() -> None:
    ran: list[str] = []

    @step
    async def record(inp: int, ctx: object) -> int:
        ran.append("record")
        return inp

    result = await Pipeline.create(parse).pipe(record).execute("x", None)

    assert isinstance(result, Failure)
    assert result.error.step == "parse" and result.error.code == "exception"
    assert ran == []
    assert [s.meta.name for s in result.steps] == ["parse"]


async def test_steps_share_the_pipeline_trace_and_get_their_own_spans() -> None:
    result = await Pipeline.create(parse).pipe(double).execute("1", None)

    trace_ids = {s.meta.trace_id for s in result.steps}
    span_ids = [s.meta.span_id for s in result.steps]
    assert trace_ids == {result.meta.trace_id}
    assert len({*span_ids, result.meta.span_id}) == 3


async def test_each_execution_gets_a_new_trace() -> None:
    pipeline = Pipeline.create(parse)
    first = await pipeline.execute("1", None)
    second = await pipeline.execute("1", None)
    assert first.meta.trace_id != second.meta.trace_id


async def test_branch_runs_only_the_chosen_arm() -> None:
    ran: list[str] = []

    @step
    async def small(inp: int, ctx: object) -> str:
        ran.append("small")
        return "small"

    @step
    async def large(inp: int, ctx: object) -> str:
        ran.append("large")
        return "large"

    pipeline = Pipeline.create(parse).branch(lambda n: n > 10, large, small)

    assert (await pipeline.execute("50", None)).unwrap() == "large"
    assert (await pipeline.execute("5", None)).unwrap() == "small"
    assert ran == ["large", "small"]


async def test_branch_condition_that_raises_fails_the_run() -> None:
    def cond(n: int) -> bool:
        raise KeyError("missing")

    result = await Pipeline.create(parse).branch(cond, double, double).execute("1", None)

    assert result.error is not None and result.error.code == "exception"
    assert "KeyError" in result.error.message


async def test_parallel_runs_arms_concurrently_and_returns_a_tuple_in_arm_order() -> None:
    both_started = asyncio.Barrier(2)

    @step
    async def as_text(inp: int, ctx: object) -> str:
        await both_started.wait()  # would deadlock if the arms ran one after the other
        return str(inp)

    @step
    async def negate(inp: int, ctx: object) -> int:
        await both_started.wait()
        return -inp

    async with asyncio.timeout(5):
        result = await Pipeline.create(parse).parallel(as_text, negate).execute("7", None)

    assert result.unwrap() == ("7", -7)
    assert [s.meta.name for s in result.steps[-1].steps] == ["as_text", "negate"]


async def test_parallel_fails_with_the_failing_arms_error() -> None:
    @step
    async def refuse(inp: int, ctx: object) -> int:
        raise StepFailure("refused", "arm refused")

    result = await Pipeline.create(parse).parallel(double, refuse).execute("1", None)

    assert result.error is not None and result.error.code == "refused"


async def test_map_never_exceeds_its_concurrency_bound() -> None:
    in_flight = 0
    peak = 0

    @step
    async def slow_square(inp: int, ctx: object) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):  # yield so other items get a chance to start alongside this one
            await asyncio.sleep(0)
        in_flight -= 1
        return inp * inp

    result = await Pipeline.create(digits).map(slow_square, concurrency=3).execute(1234567890, None)

    assert result.unwrap() == [1, 4, 9, 16, 25, 36, 49, 64, 81, 0]  # input order kept
    assert peak == 3


async def test_map_stops_starting_items_after_a_failure() -> None:
    started: list[int] = []

    @step
    async def check(inp: int, ctx: object) -> int:
        started.append(inp)
        if inp == 2:
            raise StepFailure("bad_item", f"item {inp} is bad")
        return inp

    result = await Pipeline.create(digits).map(check, concurrency=1).execute(12345, None)

    assert result.error is not None and result.error.message == "item 2 is bad"
    assert started == [1, 2]


async def test_map_over_an_empty_list_is_an_empty_list() -> None:
    @step
    async def nothing(inp: int, ctx: object) -> list[int]:
        return []

    assert (await Pipeline.create(nothing).map(double).execute(0, None)).unwrap() == []


def test_map_rejects_a_concurrency_below_one() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Pipeline.create(digits).map(double, concurrency=0)


async def test_a_pipeline_nests_as_a_step_and_keeps_the_inner_error_code() -> None:
    @step
    async def reject(inp: int, ctx: object) -> int:
        raise StepFailure("too_big", "number too big")

    inner = Pipeline.create(double, name="inner").pipe(reject)
    outer = Pipeline.create(parse).pipe(inner.as_step())

    result = await outer.execute("3", None)

    assert result.error is not None
    assert (result.error.code, result.error.step) == ("too_big", "reject")
    with pytest.raises(StepFailedError, match="too_big"):
        result.unwrap()


async def test_success_and_failure_narrow_with_match() -> None:
    result = await Pipeline.create(parse).execute("5", None)
    match result:
        case Success(data=value):
            assert value == 5
        case Failure():
            pytest.fail("expected success")


class Blocker:
    """A step body that waits forever and records, after an awaited cleanup, that it was cancelled."""

    def __init__(self, expected: int = 0) -> None:
        self.started: list[int] = []
        self.released: list[int] = []
        self.expected = expected
        self.all_started = asyncio.Event()

    async def __call__(self, inp: int, ctx: object) -> int:
        self.started.append(inp)
        if len(self.started) == self.expected:
            self.all_started.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0)  # cleanup that itself awaits, like closing a connection
            self.released.append(inp)
        return inp


async def test_a_failing_parallel_arm_cancels_its_siblings_and_waits_for_them() -> None:
    blocker = Blocker()

    @step
    async def refuse(inp: int, ctx: object) -> int:
        await asyncio.sleep(0)  # let the sibling start first
        raise StepFailure("refused", "arm refused")

    pipeline = Pipeline.create(parse).parallel(Step(blocker, name="hold"), refuse)
    async with asyncio.timeout(5):  # without cancellation the sibling would hold the run forever
        result = await pipeline.execute("1", None)

    assert result.error is not None and result.error.code == "refused"
    assert blocker.released == [1], "the sibling's cleanup finished before the run returned"
    arms = result.steps[-1].steps
    assert [(a.meta.name, a.error and a.error.code) for a in arms] == [
        ("hold", "cancelled"),
        ("refuse", "refused"),
    ]
    assert arms[0].error is not None and "'refuse' failed" in arms[0].error.message


async def test_a_failing_map_item_cancels_the_items_in_flight_and_starts_no_more() -> None:
    blocker = Blocker()

    @step
    async def check(inp: int, ctx: object) -> int:
        if inp == 1:
            await asyncio.sleep(0)
            raise StepFailure("bad_item", "item 1 is bad")
        return await blocker(inp, ctx)

    pipeline = Pipeline.create(digits).map(check, concurrency=3)
    async with asyncio.timeout(5):
        result = await pipeline.execute(12345, None)

    assert result.error is not None and result.error.message == "item 1 is bad"
    assert blocker.started == [2, 3] and sorted(blocker.released) == [2, 3]
    codes = [s.error and s.error.code for s in result.steps[-1].steps]
    assert codes == ["bad_item", "cancelled", "cancelled"]


async def test_cancelling_a_run_cancels_and_awaits_every_parallel_arm() -> None:
    blocker = Blocker(expected=2)
    pipeline = Pipeline.create(parse).parallel(Step(blocker), Step(blocker))

    task = asyncio.create_task(pipeline.execute("7", None))
    await blocker.all_started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert blocker.released == [7, 7]
