"""A single step: results, failures, retries with backoff, timeouts, cancellation, metadata."""

from __future__ import annotations

import asyncio
import re
import signal

import pytest
from pipeline_testkit import RecordedSleep

from llmorch.errors import ConfigError, LlmUnreachableError
from llmorch.pipeline import (
    Failure,
    RetryPolicy,
    Step,
    StepFailedError,
    StepFailure,
    Success,
    step,
)

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


async def test_successful_step_returns_data_and_metadata() -> None:
    @step(name="double")
    async def double(inp: int, ctx: object) -> int:
        return inp * 2

    result = await double.run(21, None)

    assert isinstance(result, Success)
    assert result.ok and result.data == 42 and result.error is None
    assert result.unwrap() == 42
    meta = result.meta
    assert meta.name == "double"
    assert HEX32.match(meta.trace_id) and HEX16.match(meta.span_id)
    assert meta.duration_ms >= 0 and meta.ended_at >= meta.started_at
    assert meta.started_at.tzinfo is not None
    assert meta.attempts == 1


async def test_bare_decorator_names_step_after_function() -> None:
    @step
    async def summarise(inp: str, ctx: object) -> str:
        return inp

    assert summarise.name == "summarise"
    assert Step(summarise.fn, name="other").name == "other"


async def test_exception_in_step_becomes_failure_not_raise() -> None:
    @step
    async def parse(inp: str, ctx: object) -> int:
        return int(inp)

    result = await parse.run("not a number", None)

    assert isinstance(result, Failure)
    assert not result.ok and result.data is None
    assert result.error.code == "exception"
    assert "ValueError" in result.error.message
    assert isinstance(result.error.cause, ValueError)
    assert result.error.step == "parse"
    assert not result.error.retryable


async def test_llmorch_error_keeps_its_kind_as_code_and_unwrap_reraises_it() -> None:
    boom = ConfigError("no model configured", hint="set llm.model")

    @step
    async def configure(inp: str, ctx: object) -> str:
        raise boom

    result = await configure.run("x", None)

    assert result.error is not None and result.error.code == "config"
    with pytest.raises(ConfigError) as raised:
        result.unwrap()
    assert raised.value is boom  # the CLI maps its kind to exit code 3


async def test_step_failure_is_a_deliberate_failure_with_its_own_code() -> None:
    @step
    async def retrieve(inp: str, ctx: object) -> list[str]:
        raise StepFailure("no_hits", "nothing matched the query", retryable=False)

    result = await retrieve.run("q", None)

    assert result.error is not None
    assert (result.error.code, result.error.message) == ("no_hits", "nothing matched the query")
    with pytest.raises(StepFailedError, match=r"step 'retrieve' failed \[no_hits\]"):
        result.unwrap()


async def test_retryable_failure_retries_with_exponential_backoff(sleep: RecordedSleep) -> None:
    calls = 0
    policy = RetryPolicy(
        max_attempts=4,
        base_delay_s=0.5,
        multiplier=2.0,
        jitter=0.2,
        sleep=sleep,
        random=lambda: 0.5,
    )

    @step(retry=policy)
    async def flaky(inp: str, ctx: object) -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise StepFailure("busy", "server busy", retryable=True)
        return "done"

    result = await flaky.run("x", None)

    assert result.unwrap() == "done"
    assert calls == 4
    assert result.meta.attempts == 4
    # random()=0.5 puts jitter at its midpoint, so the delays are the exact exponential series.
    assert sleep.delays == [0.5, 1.0, 2.0]


async def test_retries_stop_at_max_attempts_and_report_last_error(sleep: RecordedSleep) -> None:
    calls = 0

    @step(retry=RetryPolicy(max_attempts=3, sleep=sleep))
    async def unreachable(inp: str, ctx: object) -> str:
        nonlocal calls
        calls += 1
        raise LlmUnreachableError(f"connection refused (try {calls})")

    result = await unreachable.run("x", None)

    assert calls == 3
    assert len(sleep.delays) == 2
    assert result.error is not None
    assert result.error.code == "llm_unreachable" and result.error.retryable
    assert result.error.message == "connection refused (try 3)"
    assert result.meta.attempts == 3


async def test_non_retryable_failure_is_not_retried(sleep: RecordedSleep) -> None:
    calls = 0

    @step(retry=RetryPolicy(max_attempts=5, sleep=sleep))
    async def bad_input(inp: str, ctx: object) -> str:
        nonlocal calls
        calls += 1
        raise StepFailure("invalid", "query is empty", retryable=False)

    result = await bad_input.run("", None)

    assert calls == 1 and sleep.delays == []
    assert result.error is not None and result.error.code == "invalid"


async def test_retry_on_codes_overrides_the_errors_own_flag(sleep: RecordedSleep) -> None:
    seen: list[str] = []

    @step(retry=RetryPolicy(max_attempts=3, retry_on=frozenset({"exception"}), sleep=sleep))
    async def buggy_then_refused(inp: str, ctx: object) -> str:
        seen.append("call")
        if len(seen) == 1:
            raise RuntimeError("transient bug")  # "exception": listed, so retried
        raise LlmUnreachableError("refused")  # retryable by nature but not listed: stops here

    result = await buggy_then_refused.run("x", None)

    assert len(seen) == 2
    assert result.error is not None and result.error.code == "llm_unreachable"


async def test_timeout_becomes_a_timeout_error_and_is_retried(sleep: RecordedSleep) -> None:
    calls = 0

    @step(timeout_s=0.01, retry=RetryPolicy(max_attempts=2, sleep=sleep))
    async def hangs(inp: str, ctx: object) -> str:
        nonlocal calls
        calls += 1
        await asyncio.Event().wait()
        return "never"

    result = await hangs.run("x", None)

    assert calls == 2
    assert result.error is not None
    assert result.error.code == "timeout" and result.error.retryable
    assert "0.01s" in result.error.message


async def test_cancellation_propagates_and_is_never_retried(sleep: RecordedSleep) -> None:
    started = asyncio.Event()
    calls = 0

    @step(
        retry=RetryPolicy(max_attempts=5, retry_on=frozenset({"exception", "timeout"}), sleep=sleep)
    )
    async def slow(inp: str, ctx: object) -> str:
        nonlocal calls
        calls += 1
        started.set()
        await asyncio.Event().wait()
        return "never"

    task = asyncio.create_task(slow.run("x", None))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert calls == 1 and sleep.delays == []


async def test_cancellation_during_backoff_sleep_propagates() -> None:
    sleeping = asyncio.Event()

    async def sleep_forever(seconds: float) -> None:
        sleeping.set()
        await asyncio.Event().wait()

    @step(retry=RetryPolicy(max_attempts=3, sleep=sleep_forever))
    async def flaky(inp: str, ctx: object) -> str:
        raise StepFailure("busy", "busy", retryable=True)

    task = asyncio.create_task(flaky.run("x", None))
    await sleeping.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_ctrl_c_under_asyncio_run_raises_keyboard_interrupt_without_retry() -> None:
    from llmorch.pipeline import Pipeline

    calls = 0

    @step(retry=RetryPolicy(max_attempts=5, retry_on=frozenset({"exception"})))
    async def waits_for_user(inp: str, ctx: object) -> str:
        nonlocal calls
        calls += 1
        signal.raise_signal(signal.SIGINT)  # what Ctrl-C delivers; asyncio.run cancels the run
        await asyncio.Event().wait()
        return "never"

    with pytest.raises(KeyboardInterrupt):
        asyncio.run(Pipeline.create(waits_for_user).execute("x", None))
    assert calls == 1


async def test_a_timeout_raised_by_the_steps_own_io_keeps_its_message() -> None:
    @step(timeout_s=60)
    async def read(inp: str, ctx: object) -> str:
        raise TimeoutError("read timed out after 5s")

    result = await read.run("x", None)

    assert result.error is not None and result.error.code == "timeout"
    assert result.error.message == "read timed out after 5s"


async def test_a_step_that_swallows_its_timeouts_cancellation_still_times_out() -> None:
    @step(timeout_s=0.01)
    async def stubborn(inp: str, ctx: object) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            return "late answer"  # a step must not turn an expired deadline into success
        return "never"

    result = await stubborn.run("x", None)

    assert result.error is not None
    assert result.error.code == "timeout" and result.error.retryable
    assert "0.01s" in result.error.message


async def test_an_error_raised_while_a_timed_out_step_cleans_up_is_still_a_timeout() -> None:
    @step(timeout_s=0.01)
    async def messy(inp: str, ctx: object) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("connection reset while closing") from None
        return "never"

    result = await messy.run("x", None)

    assert result.error is not None and result.error.code == "timeout"
    assert isinstance(result.error.cause, RuntimeError)
