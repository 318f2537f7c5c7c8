"""Earlier runs as an input to the next one: when did this workflow last succeed (a digest that
covers "everything since the last digest")."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from llmorch.logging import logger
from llmorch.runs.store import RunFilter, RunStore, default_path

if TYPE_CHECKING:
    from llmorch.config import RunsSettings

LOOK_BACK = 50
"""Successful runs examined for one whose input matches; older ones are not searched."""


def last_success_started_at(
    workflow: str,
    config: RunsSettings,
    *,
    input_matches: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> float | None:
    """When the newest successful run of `workflow` whose recorded input matches started (a Unix
    time); None when there is none, records are off, or the database cannot be read."""
    if not config.enabled:
        return None
    store = RunStore(default_path())
    try:
        for summary in store.list(RunFilter(workflow=workflow, status="ok", limit=LOOK_BACK)):
            record = store.get(str(summary["id"]))
            recorded = record.get("input") if record is not None else None
            if isinstance(recorded, dict) and input_matches(cast("dict[str, Any]", recorded)):
                return float(summary["started_at"])
    except (sqlite3.Error, OSError, ValueError) as exc:
        logger.warning("cannot read earlier {} runs from {}: {}", workflow, store.path, exc)
    finally:
        store.close()
    return None
