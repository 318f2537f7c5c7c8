"""What running a step or pipeline returns: the data or a typed error, plus timing and trace ids.

`StepResult[T]` is the union `Success[T] | Failure`: `.ok`, `.data`, `.error` and `.unwrap()` work on
either, and `isinstance(result, Success)` or `match result: case Success(data=...)` narrows to `T`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from time import perf_counter
from typing import ClassVar, Generic, Literal, NoReturn, TypeAlias, TypeVar

from llmorch.errors import LlmorchError
from llmorch.logging import parent_span_id

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class StepFailure(Exception):
    """Raise inside a step to fail it on purpose with a code the caller can act on."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.retryable = retryable


@dataclass(frozen=True, slots=True)
class StepError:
    """Why a step failed. `code` is "timeout", "exception", an LlmorchError kind or a StepFailure code."""

    code: str
    message: str
    retryable: bool = False
    cause: BaseException | None = None
    step: str | None = None

    def __str__(self) -> str:
        where = f"step {self.step!r} failed" if self.step else "failed"
        return f"{where} [{self.code}]: {self.message}"


@dataclass(frozen=True, slots=True)
class StepMeta:
    """When and where a step ran; ids are W3C trace-context hex (32 and 16 digits).

    `parent_span_id` is the span it ran in (the pipeline, or the step a nested pipeline ran in).
    """

    name: str
    started_at: datetime
    ended_at: datetime
    duration_ms: float
    trace_id: str
    span_id: str
    attempts: int = 1
    parent_span_id: str | None = None


class Stopwatch:
    """Takes a wall-clock start and a monotonic duration, so end - start never goes negative."""

    __slots__ = ("_t0", "started_at")

    def __init__(self) -> None:
        self.started_at = datetime.now(UTC)
        self._t0 = perf_counter()

    def meta(self, name: str, trace_id: str, span_id: str, attempts: int = 1) -> StepMeta:
        """Called inside the span `span_id`, whose parent it records."""
        duration_ms = (perf_counter() - self._t0) * 1000.0
        return StepMeta(
            name=name,
            started_at=self.started_at,
            ended_at=self.started_at + timedelta(milliseconds=duration_ms),
            duration_ms=duration_ms,
            trace_id=trace_id,
            span_id=span_id,
            attempts=attempts,
            parent_span_id=parent_span_id(),
        )


class StepFailedError(LlmorchError):
    """Raised by `Failure.unwrap()` when the failure did not come from an LlmorchError."""

    kind = "step_failed"

    def __init__(self, error: StepError) -> None:
        super().__init__(str(error))
        self.error = error


@dataclass(frozen=True, slots=True)
class Success(Generic[T_co]):
    """A step or pipeline that produced `data`; `steps` holds the results of the stages it ran."""

    data: T_co
    meta: StepMeta
    steps: tuple[StepResult[object], ...] = ()
    ok: ClassVar[Literal[True]] = True

    @property
    def error(self) -> None:
        return None

    def unwrap(self) -> T_co:
        return self.data


@dataclass(frozen=True, slots=True)
class Failure:
    """A step or pipeline that failed with `error`; `steps` holds the stages run up to the failure."""

    error: StepError
    meta: StepMeta
    steps: tuple[StepResult[object], ...] = ()
    ok: ClassVar[Literal[False]] = False

    @property
    def data(self) -> None:
        return None

    def unwrap(self) -> NoReturn:
        """Raise the original LlmorchError (its kind maps to an exit code) or a StepFailedError."""
        cause = self.error.cause
        if isinstance(cause, LlmorchError):
            raise cause
        raise StepFailedError(self.error) from cause


StepResult: TypeAlias = Success[T] | Failure
