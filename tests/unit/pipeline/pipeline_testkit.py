"""Test doubles for the pipeline tests (a module name no other test directory uses)."""

from __future__ import annotations


class RecordedSleep:
    """Stands in for asyncio.sleep in a RetryPolicy: remembers each delay, returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
