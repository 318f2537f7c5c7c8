"""`Step[In, Out, Ctx]`: one typed async function plus its retry policy, timeout, logs and span.

Variance: a step is contravariant in what it reads (In, Ctx) and covariant in what it makes (Out),
so a step asking for a small context Protocol fits any pipeline whose context satisfies it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, Protocol, TypeVar, overload

from llmorch.errors import LlmorchError, LlmUnreachableError
from llmorch.logging import logger, span_context
from llmorch.pipeline.events import step_listener
from llmorch.pipeline.result import (
    Failure,
    StepError,
    StepFailedError,
    StepFailure,
    StepResult,
    Stopwatch,
    Success,
)
from llmorch.pipeline.retry import NO_RETRY, RetryPolicy
from llmorch.pipeline.tracing import ensure_trace

In = TypeVar("In")
Out = TypeVar("Out")
Ctx = TypeVar("Ctx")
In_contra = TypeVar("In_contra", contravariant=True)
Out_co = TypeVar("Out_co", covariant=True)
Ctx_contra = TypeVar("Ctx_contra", contravariant=True)
Same = TypeVar("Same")


class Step(Generic[In_contra, Out_co, Ctx_contra]):
    """An async `fn(inp, ctx) -> Out` that runs with retries, a timeout, logs and a span id."""

    __slots__ = ("_fn", "_name", "_retry", "_timeout_s")

    def __init__(
        self,
        fn: Callable[[In_contra, Ctx_contra], Awaitable[Out_co]],
        *,
        name: str | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float | None = None,
    ) -> None:
        if timeout_s is not None and timeout_s <= 0:
            raise ValueError(f"timeout_s must be positive, got {timeout_s}")
        self._fn = fn
        self._name = name or getattr(fn, "__name__", "step")
        self._retry = retry or NO_RETRY
        self._timeout_s = timeout_s

    @property
    def fn(self) -> Callable[[In_contra, Ctx_contra], Awaitable[Out_co]]:
        return self._fn

    @property
    def name(self) -> str:
        return self._name

    @property
    def retry(self) -> RetryPolicy:
        return self._retry

    @property
    def timeout_s(self) -> float | None:
        return self._timeout_s

    @property
    def _exact_output(self) -> type[list[Out_co]]:
        # Never read at run time. It mentions Out in an invariant position so that `SameOutput`
        # below can make pyright demand *identical* outputs (Python typing has no "same type"
        # constraint; a covariant Out alone lets two arms widen to a union).
        return list

    def __repr__(self) -> str:
        return f"Step({self._name!r})"

    async def run(self, inp: In_contra, ctx: Ctx_contra) -> StepResult[Out_co]:
        """Run to a result: exceptions become a Failure, cancellation propagates untouched."""
        with ensure_trace() as trace_id, span_context(step=self._name) as span_id:
            watch = Stopwatch()
            logger.debug("step {} started", self._name)
            if listener := step_listener():
                listener.step_started(self._name, span_id)
            attempt = 1
            try:
                while True:
                    outcome = await self._attempt(inp, ctx)
                    if isinstance(outcome, _Done):
                        meta = watch.meta(self._name, trace_id, span_id, attempt)
                        logger.debug("step {} completed in {:.2f} ms", self._name, meta.duration_ms)
                        if listener:
                            listener.step_ended(
                                self._name, span_id, ok=True, duration_ms=meta.duration_ms
                            )
                        return Success(outcome.value, meta)
                    error = outcome
                    if not self._retry.should_retry(error, attempt):
                        meta = watch.meta(self._name, trace_id, span_id, attempt)
                        # INFO, not WARNING: the caller gets the failure and decides how to report it.
                        logger.info(
                            "step {} failed: [{}] {}", self._name, error.code, error.message
                        )
                        if listener:
                            listener.step_ended(
                                self._name, span_id, ok=False, duration_ms=meta.duration_ms
                            )
                        return Failure(error, meta)
                    delay = self._retry.delay_s(attempt)
                    logger.info(
                        "step {} attempt {} failed: [{}] {}; retrying in {:.3f}s",
                        self._name, attempt, error.code, error.message, delay,
                    )  # fmt: skip
                    await self._retry.sleep(delay)
                    attempt += 1
            except asyncio.CancelledError:
                logger.info("step {} cancelled during attempt {}", self._name, attempt)
                if listener:
                    listener.step_ended(self._name, span_id, ok=False, duration_ms=0.0)
                raise

    async def _attempt(self, inp: In_contra, ctx: Ctx_contra) -> _Done[Out_co] | StepError:
        if self._timeout_s is None:
            try:
                return _Done(await self._fn(inp, ctx))
            except Exception as exc:  # a step's bug or failure is reported as a result, not raised
                return error_from_exception(exc, self._name)
        deadline = asyncio.timeout(self._timeout_s)
        try:
            async with deadline:
                value = await self._fn(inp, ctx)
        except Exception as exc:
            if deadline.expired():
                return self._timed_out(exc)
            return error_from_exception(exc, self._name)
        if deadline.expired():  # the step caught our cancellation and went on: still too late
            return self._timed_out(None)
        return _Done(value)

    def _timed_out(self, exc: Exception | None) -> StepError:
        message = f"took longer than {self._timeout_s}s"
        return StepError("timeout", message, True, exc, self._name)


class _Done(Generic[Out_co]):
    """Wraps a finished attempt's value, so a step whose Out is a StepError stays unambiguous."""

    __slots__ = ("value",)

    def __init__(self, value: Out_co) -> None:
        self.value = value


def error_from_exception(exc: Exception, step: str) -> StepError:
    """Classify an exception raised inside a step; LlmorchErrors keep their kind as the code."""
    if isinstance(exc, StepFailedError):
        return exc.error
    if isinstance(exc, StepFailure):
        return StepError(exc.code, exc.message, exc.retryable, exc, step)
    if isinstance(exc, LlmorchError):
        return StepError(exc.kind, str(exc), isinstance(exc, LlmUnreachableError), exc, step)
    if isinstance(exc, TimeoutError):  # a timeout the step's own I/O hit is worth another try
        return StepError("timeout", str(exc) or "timed out", True, exc, step)
    retryable = isinstance(exc, ConnectionError)
    return StepError("exception", f"{type(exc).__name__}: {exc}", retryable, exc, step)


class SameOutput(Protocol[In_contra, Same, Ctx_contra]):
    """A Step whose output is exactly `Same`: what both arms of a branch must be."""

    @property
    def fn(self) -> Callable[[In_contra, Ctx_contra], Awaitable[Same]]: ...

    @property
    def _exact_output(self) -> type[list[Same]]: ...

    @property
    def name(self) -> str: ...

    async def run(self, inp: In_contra, ctx: Ctx_contra) -> StepResult[Same]: ...


@overload
def step(fn: Callable[[In, Ctx], Awaitable[Out]], /) -> Step[In, Out, Ctx]: ...
@overload
def step(
    *, name: str | None = None, retry: RetryPolicy | None = None, timeout_s: float | None = None
) -> Callable[[Callable[[In, Ctx], Awaitable[Out]]], Step[In, Out, Ctx]]: ...
def step(
    fn: Callable[[In, Ctx], Awaitable[Out]] | None = None,
    /,
    *,
    name: str | None = None,
    retry: RetryPolicy | None = None,
    timeout_s: float | None = None,
) -> Step[In, Out, Ctx] | Callable[[Callable[[In, Ctx], Awaitable[Out]]], Step[In, Out, Ctx]]:
    """Turn `async def f(inp, ctx) -> Out` into a Step, bare (`@step`) or configured (`@step(...)`)."""
    if fn is not None:
        return Step(fn)

    def decorate(f: Callable[[In, Ctx], Awaitable[Out]]) -> Step[In, Out, Ctx]:
        return Step(f, name=name, retry=retry, timeout_s=timeout_s)

    return decorate
