"""How a step retries: attempt count, exponential backoff with jitter, which failures qualify.

Sleep and randomness are injectable so tests can check the delays without waiting for them.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from llmorch.pipeline.result import StepError


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retry a failed attempt up to `max_attempts` in total, waiting base * multiplier**n (capped).

    `retry_on` names the error codes worth retrying; None means "whatever the error says is
    retryable" (timeouts, connection errors, StepFailure(retryable=True), an unreachable LLM).
    Jitter spreads each delay uniformly over ±`jitter` of itself (but not past `max_delay_s`) so
    retries from parallel arms do not hit a server in lockstep.
    """

    max_attempts: int = 3
    base_delay_s: float = 0.5
    multiplier: float = 2.0
    max_delay_s: float = 30.0
    jitter: float = 0.2
    retry_on: frozenset[str] | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    random: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.multiplier < 1:
            raise ValueError("delays must be non-negative and multiplier at least 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError(f"jitter must be between 0 and 1, got {self.jitter}")

    def should_retry(self, error: StepError, attempt: int) -> bool:
        """Whether to try again after `attempt` (1-based) failed with `error`."""
        if attempt >= self.max_attempts:
            return False
        if self.retry_on is None:
            return error.retryable
        return error.code in self.retry_on

    def delay_s(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based); never past the cap."""
        try:
            grown = self.base_delay_s * self.multiplier ** (attempt - 1)
        except OverflowError:  # a long-lived policy's later attempts: far beyond any cap
            grown = self.max_delay_s
        capped = min(self.max_delay_s, grown)
        low = capped * (1.0 - self.jitter)
        high = min(self.max_delay_s, capped * (1.0 + self.jitter))
        return low + (high - low) * self.random()


NO_RETRY = RetryPolicy(max_attempts=1)
"""The default: one attempt, failures are returned as they are."""
