"""A bound on model requests in flight: excess requests wait a while, then get 503 Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from llmorch.api.errors import HttpError


class ModelGate:
    """At most `limit` holders at once; a request waits up to `wait_s` for a slot."""

    def __init__(self, limit: int, wait_s: float) -> None:
        self._slots = asyncio.Semaphore(limit)
        self._wait_s = wait_s
        self.limit = limit

    async def acquire(self) -> None:
        """Take a slot, or raise 503 with Retry-After once `wait_s` has passed without one."""
        try:
            await asyncio.wait_for(self._slots.acquire(), self._wait_s)
        except TimeoutError:
            raise HttpError(
                503,
                "overloaded",
                f"{self.limit} model requests are already running; try again shortly",
                headers={"Retry-After": str(max(1, round(self._wait_s)))},
            ) from None

    def release(self) -> None:
        self._slots.release()

    @asynccontextmanager
    async def slot(self) -> AsyncGenerator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()
