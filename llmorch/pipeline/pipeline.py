"""`Pipeline[In, Out, Ctx]`: typed composition of steps (pipe, branch, parallel, map) run as one trace.

Types are checked where the pipeline is built; at run time values flow through untyped stages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, overload

from llmorch.logging import current_trace_id, logger, new_trace_id, span_context
from llmorch.pipeline.result import Failure, StepError, StepResult, Stopwatch, Success
from llmorch.pipeline.step import SameOutput, Step, error_from_exception
from llmorch.pipeline.tracing import ensure_trace

In_contra = TypeVar("In_contra", contravariant=True)
Out_co = TypeVar("Out_co", covariant=True)
Ctx = TypeVar("Ctx")
I = TypeVar("I")  # noqa: E741 - the usual In/Out/Ctx letters
O = TypeVar("O")  # noqa: E741
C = TypeVar("C")
Next = TypeVar("Next")
Item = TypeVar("Item")
A = TypeVar("A")
B = TypeVar("B")
D = TypeVar("D")
E = TypeVar("E")
F = TypeVar("F")

_Stage = Callable[[Any, Any], Awaitable[StepResult[Any]]]


class Pipeline(Generic[In_contra, Out_co, Ctx]):
    """An immutable chain of stages; each builder method returns a new, longer pipeline.

    The context type is fixed for the whole pipeline (steps ask for Protocols it must satisfy),
    so it is invariant; pass `context=` to `create` when the first step needs less than the rest.
    """

    __slots__ = ("_name", "_stage_names", "_stages")

    def __init__(
        self, name: str, stages: tuple[_Stage, ...], stage_names: tuple[str, ...] = ()
    ) -> None:
        self._name = name
        self._stages = stages
        self._stage_names = stage_names

    @classmethod
    def create(
        cls, first: Step[I, O, C], *, context: type[C] | None = None, name: str = "pipeline"
    ) -> Pipeline[I, O, C]:
        """Start a pipeline; `context` fixes its Ctx type (defaults to what `first` asks for)."""
        return Pipeline(name, (first.run,), (first.name,))

    @property
    def name(self) -> str:
        return self._name

    @property
    def step_names(self) -> tuple[str, ...]:
        """The top-level stages in order, e.g. ('prepare', 'map(search)', 'answer')."""
        return self._stage_names

    def pipe(self, step: Step[Out_co, Next, Ctx]) -> Pipeline[In_contra, Next, Ctx]:
        """Feed this pipeline's output to `step`."""
        return Pipeline(self._name, (*self._stages, step.run), (*self._stage_names, step.name))

    def branch(
        self,
        cond: Callable[[Out_co], bool],
        if_true: SameOutput[Out_co, Next, Ctx],
        if_false: SameOutput[Out_co, Next, Ctx],
    ) -> Pipeline[In_contra, Next, Ctx]:
        """Run `if_true` or `if_false` on the output; both must produce exactly the same type."""
        name = f"branch({if_true.name}|{if_false.name})"

        async def children(value: Any, ctx: Any) -> list[StepResult[Any]]:
            arm = if_true if cond(value) else if_false
            return [await arm.run(value, ctx)]

        return self._with(name, _composite(name, children, lambda data: data[0]))

    @overload
    def parallel(
        self, a: Step[Out_co, A, Ctx], b: Step[Out_co, B, Ctx], /
    ) -> Pipeline[In_contra, tuple[A, B], Ctx]: ...
    @overload
    def parallel(
        self, a: Step[Out_co, A, Ctx], b: Step[Out_co, B, Ctx], c: Step[Out_co, D, Ctx], /
    ) -> Pipeline[In_contra, tuple[A, B, D], Ctx]: ...
    @overload
    def parallel(
        self,
        a: Step[Out_co, A, Ctx],
        b: Step[Out_co, B, Ctx],
        c: Step[Out_co, D, Ctx],
        d: Step[Out_co, E, Ctx],
        /,
    ) -> Pipeline[In_contra, tuple[A, B, D, E], Ctx]: ...
    @overload
    def parallel(
        self,
        a: Step[Out_co, A, Ctx],
        b: Step[Out_co, B, Ctx],
        c: Step[Out_co, D, Ctx],
        d: Step[Out_co, E, Ctx],
        e: Step[Out_co, F, Ctx],
        /,
    ) -> Pipeline[In_contra, tuple[A, B, D, E, F], Ctx]: ...
    def parallel(self, *arms: Step[Out_co, Any, Ctx]) -> Pipeline[In_contra, Any, Ctx]:
        """Run every arm concurrently on the same input; the output is the tuple of their outputs.

        The first arm to fail cancels the others (see `_run_fail_fast`).
        """
        name = f"parallel({', '.join(arm.name for arm in arms)})"

        async def children(value: Any, ctx: Any) -> list[StepResult[Any]]:
            return await _run_fail_fast(name, [(arm, value) for arm in arms], ctx, len(arms))

        return self._with(name, _composite(name, children, tuple))

    def map(
        self: Pipeline[In_contra, Sequence[Item], Ctx],
        step: Step[Item, Next, Ctx],
        *,
        concurrency: int = 4,
    ) -> Pipeline[In_contra, list[Next], Ctx]:
        """Run `step` on each item, at most `concurrency` at once; a failure cancels the items in flight."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        name = f"map({step.name})"

        async def children(value: Any, ctx: Any) -> list[StepResult[Any]]:
            items: Sequence[Any] = value
            return await _run_fail_fast(name, [(step, item) for item in items], ctx, concurrency)

        return self._with(name, _composite(name, children, list))

    def as_step(self, *, name: str | None = None) -> Step[In_contra, Out_co, Ctx]:
        """This pipeline as one step, to nest it in a branch, parallel or map of another."""

        async def run(inp: In_contra, ctx: Ctx) -> Out_co:
            return (await self.execute(inp, ctx)).unwrap()

        return Step(run, name=name or self._name)

    async def execute(self, inp: In_contra, ctx: Ctx) -> StepResult[Out_co]:
        """Run every stage in order under one trace; the first failure ends the run."""
        with ensure_trace() as trace_id, span_context(pipeline=self._name) as span_id:
            watch = Stopwatch()
            logger.debug("pipeline {} started", self._name)
            done: list[StepResult[object]] = []
            value: Any = inp
            try:
                for stage in self._stages:
                    result = await stage(value, ctx)
                    done.append(result)
                    if isinstance(result, Failure):
                        logger.debug("pipeline {} failed: {}", self._name, result.error)
                        return Failure(
                            result.error, watch.meta(self._name, trace_id, span_id), tuple(done)
                        )
                    value = result.data
            except asyncio.CancelledError:
                logger.info("pipeline {} cancelled", self._name)
                raise
            meta = watch.meta(self._name, trace_id, span_id)
            logger.debug("pipeline {} completed in {:.2f} ms", self._name, meta.duration_ms)
            return Success(value, meta, tuple(done))

    def _with(self, name: str, stage: _Stage) -> Pipeline[In_contra, Any, Ctx]:
        return Pipeline(self._name, (*self._stages, stage), (*self._stage_names, name))


def _composite(
    name: str,
    children: Callable[[Any, Any], Awaitable[list[StepResult[Any]]]],
    combine: Callable[[list[Any]], Any],
) -> _Stage:
    """A stage made of child step runs: one span, fails with the first child that failed."""

    async def run(value: Any, ctx: Any) -> StepResult[Any]:
        with ensure_trace() as trace_id, span_context(step=name) as span_id:
            watch = Stopwatch()
            try:
                results = await children(value, ctx)
            except Exception as exc:  # a branch condition raised: report it like a step would
                return Failure(error_from_exception(exc, name), watch.meta(name, trace_id, span_id))
            meta = watch.meta(name, trace_id, span_id)
            failures = [r for r in results if isinstance(r, Failure)]
            # Siblings cancelled because of a failure are not its cause: report the failure itself.
            causes = [f for f in failures if not isinstance(f.error.cause, asyncio.CancelledError)]
            if failures:
                return Failure((causes or failures)[0].error, meta, tuple(results))
            return Success(combine([r.data for r in results]), meta, tuple(results))

    return run


async def _run_fail_fast(
    name: str, jobs: Sequence[tuple[Step[Any, Any, Any], Any]], ctx: Any, limit: int
) -> list[StepResult[Any]]:
    """Run each (step, input) job, at most `limit` at once, results in job order.

    The first failure stops the rest: jobs not yet started never start, and running ones are
    cancelled and awaited (so they release what they hold) before this returns; each of those
    is reported as a "cancelled" Failure. Cancelling the caller cancels and awaits them too.
    """
    results: dict[int, StepResult[Any]] = {}
    queue = iter(enumerate(jobs))
    running: dict[asyncio.Task[StepResult[Any]], tuple[int, str, Stopwatch]] = {}

    def start_next() -> bool:
        job = next(queue, None)
        if job is None:
            return False
        index, (step, value) = job
        running[asyncio.create_task(step.run(value, ctx))] = (index, step.name, Stopwatch())
        return True

    failed: Failure | None = None
    try:
        while len(running) < limit and start_next():
            pass
        while running and failed is None:
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in sorted(done, key=lambda t: running[t][0]):
                index = running.pop(task)[0]
                result = results[index] = task.result()
                if failed is None and isinstance(result, Failure):
                    failed = result
            while failed is None and len(running) < limit and start_next():
                pass
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running)
    if failed is not None:
        _record_cancelled(name, failed, running, results)
    return [results[index] for index in sorted(results)]


def _record_cancelled(
    name: str,
    failed: Failure,
    stopped: dict[asyncio.Task[StepResult[Any]], tuple[int, str, Stopwatch]],
    results: dict[int, StepResult[Any]],
) -> None:
    """Give each job stopped because of `failed` a result: what it returned, else "cancelled"."""
    reason = f"cancelled because step {failed.error.step!r} failed"
    trace_id = current_trace_id() or new_trace_id()
    cancelled = 0
    for task, (index, job_name, watch) in stopped.items():
        if not task.cancelled():  # it finished before the cancellation reached it
            results[index] = task.result()
            continue
        cancelled += 1
        error = StepError("cancelled", reason, cause=asyncio.CancelledError(reason), step=job_name)
        with span_context(step=job_name) as span_id:  # its record, a child of the composite's span
            results[index] = Failure(error, watch.meta(job_name, trace_id, span_id))
    if cancelled:
        logger.info("{}: {} running step(s) {}", name, cancelled, reason)
