"""Delivering one notification to its targets: each in parallel, each attempt bounded in time,
network failures retried with backoff; a target that still fails is reported, never raised."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from llmorch.config import NotifyTarget, Settings
from llmorch.errors import ConfigError, UsageError
from llmorch.logging import logger
from llmorch.notify.failure import DeliveryError
from llmorch.notify.kinds import parts, send
from llmorch.notify.message import Notification
from llmorch.pipeline.retry import RetryPolicy
from llmorch.redaction import redact

MAX_RETRY_AFTER_S = 30.0
"""A server asking us to wait longer than this (Telegram's 429) fails the delivery instead."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """How sending to one target went: `error` is None when it arrived."""

    target: str
    kind: str
    attempts: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def targets_named(settings: Settings, names: Sequence[str]) -> dict[str, NotifyTarget]:
    """The configured targets by name; a UsageError before the run when one does not exist."""
    unknown = [name for name in names if name not in settings.notify]
    if unknown:
        known = ", ".join(sorted(settings.notify)) or "none configured"
        raise UsageError(
            f"unknown notification target {unknown[0]!r} ({known})",
            hint="add it under `notify` in the config file",
        )
    return {name: settings.notify[name] for name in names}


async def deliver(
    targets: Mapping[str, NotifyTarget],
    notification: Notification,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[Delivery]:
    """Send `notification` to every target at once; how it went for each, in the order given."""
    return await asyncio.gather(
        *(_deliver_one(name, target, notification, sleep) for name, target in targets.items())
    )


async def _deliver_one(
    name: str,
    target: NotifyTarget,
    notification: Notification,
    sleep: Callable[[float], Awaitable[None]],
) -> Delivery:
    """Each part in order, each retried on its own: a retry never sends a part twice."""
    messages = parts(target, notification)
    attempts = 0
    for number, message in enumerate(messages, 1):
        tried, error = await _deliver_part(name, target, message, sleep)
        attempts += tried
        if error is not None:
            which = f"part {number} of {len(messages)}: " if len(messages) > 1 else ""
            return Delivery(name, target.kind, attempts, redact(which + str(error)))
    return Delivery(name, target.kind, attempts)


async def _deliver_part(
    name: str,
    target: NotifyTarget,
    notification: Notification,
    sleep: Callable[[float], Awaitable[None]],
) -> tuple[int, DeliveryError | None]:
    """Attempts made, and the error the last one ended with when the part was not delivered."""
    policy = RetryPolicy(max_attempts=target.retries + 1, base_delay_s=1.0, max_delay_s=10.0)
    attempt = 1
    while True:
        error = await _attempt(target, notification)
        if error is None:
            return attempt, None
        wait = policy.delay_s(attempt) if error.retry_after is None else error.retry_after
        if not error.retryable or attempt >= policy.max_attempts or wait > MAX_RETRY_AFTER_S:
            return attempt, error
        logger.info("notify {}: attempt {} failed: {}; retrying", name, attempt, redact(str(error)))
        await sleep(wait)
        attempt += 1


async def _attempt(target: NotifyTarget, notification: Notification) -> DeliveryError | None:
    """One attempt, bounded by the target's timeout; the error it ended with, if any."""
    try:
        await asyncio.wait_for(send(target, notification), target.timeout_s)
    except TimeoutError:
        return DeliveryError(f"no answer within {target.timeout_s:g} s", retryable=True)
    except DeliveryError as exc:
        return exc
    except ConfigError as exc:  # an unreadable token or password file: trying again cannot help
        return DeliveryError(str(exc), retryable=False)
    return None
