"""`Pipeline[In, Out, Ctx]`: typed composition of steps (pipe, branch, parallel, map) run as one trace.

Types are checked where the pipeline is built; at run time values flow through untyped stages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar, overload

from loguru import logger

from llmorch.logging import span_context
from llmorch.pipeline.result import Failure, StepResult, Stopwatch, Success
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

    __slots__ = ("_name", "_stages")

    def __init__(self, name: str, stages: tuple[_Stage, ...]) -> None:
        self._name = name
        self._stages = stages

    @classmethod
    def create(
        cls, first: Step[I, O, C], *, context: type[C] | None = None, name: str = "pipeline"
    ) -> Pipeline[I, O, C]:
        """Start a pipeline; `context` fixes its Ctx type (defaults to what `first` asks for)."""
        return Pipeline(name, (first.run,))

    @property
    def name(self) -> str:
        return self._name

    def pipe(self, step: Step[Out_co, Next, Ctx]) -> Pipeline[In_contra, Next, Ctx]:
        """Feed this pipeline's output to `step`."""
        return Pipeline(self._name, (*self._stages, step.run))

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

        return self._with(_composite(name, children, lambda data: data[0]))

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
        """Run every arm concurrently on the same input; the output is the tuple of their outputs."""
        name = f"parallel({', '.join(arm.name for arm in arms)})"

        async def children(value: Any, ctx: Any) -> list[StepResult[Any]]:
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(arm.run(value, ctx)) for arm in arms]
            return [task.result() for task in tasks]

        return self._with(_composite(name, children, tuple))

    def map(
        self: Pipeline[In_contra, Sequence[Item], Ctx],
        step: Step[Item, Next, Ctx],
        *,
        concurrency: int = 4,
    ) -> Pipeline[In_contra, list[Next], Ctx]:
        """Run `step` on each item, at most `concurrency` at once; stops starting items on failure."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, got {concurrency}")
        name = f"map({step.name})"

        async def children(value: Any, ctx: Any) -> list[StepResult[Any]]:
            items: Sequence[Any] = value
            results: list[StepResult[Any] | None] = [None] * len(items)
            pending = iter(enumerate(items))
            failed = False

            async def worker() -> None:
                nonlocal failed
                # Workers share one iterator: pulling the next item never awaits, so none is lost.
                for index, item in pending:
                    if failed:
                        return
                    result = await step.run(item, ctx)
                    results[index] = result
                    failed = failed or not result.ok

            async with asyncio.TaskGroup() as group:
                for _ in range(min(concurrency, len(items))):
                    group.create_task(worker())
            return [r for r in results if r is not None]

        return self._with(_composite(name, children, list))

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

    def _with(self, stage: _Stage) -> Pipeline[In_contra, Any, Ctx]:
        return Pipeline(self._name, (*self._stages, stage))


def _composite(
    name: str,
    children: Callable[[Any, Any], Awaitable[list[StepResult[Any]]]],
    combine: Callable[[list[Any]], Any],
) -> _Stage:
    """A stage made of child step runs: one span, fails with the first failed child."""

    async def run(value: Any, ctx: Any) -> StepResult[Any]:
        with ensure_trace() as trace_id, span_context(step=name) as span_id:
            watch = Stopwatch()
            try:
                results = await children(value, ctx)
            except Exception as exc:  # a branch condition raised: report it like a step would
                return Failure(error_from_exception(exc, name), watch.meta(name, trace_id, span_id))
            meta = watch.meta(name, trace_id, span_id)
            for result in results:
                if isinstance(result, Failure):
                    return Failure(result.error, meta, tuple(results))
            return Success(combine([r.data for r in results]), meta, tuple(results))

    return run
