"""Workflow runs the client does not wait for (`?wait=false`): each holds a gate slot like any
model request, and shutdown lets them finish within the server's bound before cancelling them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from llmorch.api.errors import HttpError
from llmorch.api.gate import ModelGate
from llmorch.errors import LlmorchError
from llmorch.logging import logger


class BackgroundRuns:
    """Runs started and not yet finished, by run id (their records may not be written yet)."""

    def __init__(self, gate: ModelGate) -> None:
        self._gate = gate
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.workflows: dict[str, str] = {}
        """The workflow each pending run belongs to: what `GET /api/runs/ID` says before its
        record exists."""

    async def start(self, run_id: str, workflow: str, work: Callable[[], Awaitable[Any]]) -> None:
        """Take a gate slot (503 when the server is full, as for a waited run), then run `work`."""
        await self._gate.acquire()
        self.workflows[run_id] = workflow
        self._tasks[run_id] = asyncio.create_task(self._run(run_id, work))

    async def _run(self, run_id: str, work: Callable[[], Awaitable[Any]]) -> None:
        try:
            await work()
        except (LlmorchError, HttpError) as exc:  # the run record holds the outcome
            logger.warning("background run {} failed: {}", run_id, exc)
        except Exception:
            logger.exception("background run {} failed", run_id)
        finally:
            self._gate.release()
            self._tasks.pop(run_id, None)
            self.workflows.pop(run_id, None)

    async def drain(self, timeout_s: float) -> None:
        """Wait up to `timeout_s` for the runs in flight, then cancel what is left (its record
        then says cancelled)."""
        tasks = list(self._tasks.values())
        if not tasks:
            return
        logger.info("waiting up to {:g} s for {} background run(s)", timeout_s, len(tasks))
        _, late = await asyncio.wait(tasks, timeout=timeout_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
