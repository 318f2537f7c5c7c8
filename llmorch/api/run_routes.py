"""`GET /api/runs/{id}`: a run's record as `llmorch runs show --json` prints it, so a client that
started a run with `?wait=false` can follow it to its end."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from llmorch.api.errors import HttpError

if TYPE_CHECKING:
    from llmorch.api.state import ServerState


async def get_run(request: Request, state: ServerState) -> Response:
    run_id = request.path_params["id"]
    record = await asyncio.to_thread(_read, run_id)
    if record is not None:
        return JSONResponse(record)
    workflow = state.background.workflows.get(run_id)
    if workflow is not None:  # started here, its record not written yet
        return JSONResponse({"id": run_id, "workflow": workflow, "status": "queued"})
    raise HttpError(404, "run_not_found", f"no run with id {run_id!r}")


def status_url(run_id: str) -> str:
    return f"/api/runs/{run_id}"


def _read(run_id: str) -> dict[str, Any] | None:
    """One short-lived connection per read: reads are rare and must not share the recorder's
    connection (and its lock) with the writes of runs in flight."""
    from llmorch.runs.store import RunStore

    store = RunStore()
    if not store.path.exists():
        return None
    try:
        return store.get(run_id)
    except (sqlite3.Error, OSError) as exc:
        raise HttpError(
            503, "run_records_unavailable", f"cannot read run records at {store.path}: {exc}"
        ) from exc
    finally:
        store.close()
