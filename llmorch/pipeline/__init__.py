"""Typed async pipelines: steps with retries and timeouts, composed so pyright checks every joint."""

from llmorch.pipeline.pipeline import Pipeline
from llmorch.pipeline.result import (
    Failure,
    StepError,
    StepFailedError,
    StepFailure,
    StepMeta,
    StepResult,
    Success,
)
from llmorch.pipeline.retry import NO_RETRY, RetryPolicy
from llmorch.pipeline.step import Step, step

__all__ = [
    "NO_RETRY",
    "Failure",
    "Pipeline",
    "RetryPolicy",
    "Step",
    "StepError",
    "StepFailedError",
    "StepFailure",
    "StepMeta",
    "StepResult",
    "Success",
    "step",
]
