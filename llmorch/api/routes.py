"""The JSON API: liveness and readiness, a cited answer, and search."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from llmorch.api.bodies import read_model, validated
from llmorch.api.handlers import guarded
from llmorch.errors import LlmorchError
from llmorch.retrieval.hits import SearchRequest

if TYPE_CHECKING:
    from llmorch.api.state import ServerState
    from llmorch.workflows.ask import AskRequest, AskResult
    from llmorch.workflows.definition import OnDelta

_READY_TIMEOUT_S = 3.0


class QueryBody(BaseModel):
    """`POST /api/query`: the design's endpoint, as `ask` takes it."""

    model_config = {"extra": "forbid"}

    query: str = Field(min_length=1)
    mode: str = "rag"
    tags: list[str] = Field(default_factory=list[str])
    limit: int = Field(default=6, ge=1, le=50)


async def health(request: Request, state: ServerState) -> Response:
    """The process answers; nothing behind it is touched."""
    return JSONResponse({"status": "ok"})


async def ready(request: Request, state: ServerState) -> Response:
    """503 with the reasons unless the model server and the index both answer."""
    model, index = await asyncio.gather(_model_problem(state), _index_problem(state))
    problems = {k: v for k, v in {"model": model, "index": index}.items() if v is not None}
    if problems:
        return JSONResponse({"status": "not ready", "problems": problems}, 503)
    return JSONResponse({"status": "ready"})


async def _model_problem(state: ServerState) -> str | None:
    """Ready when any profile of the model's fallback chain answers (the check `llmorch models` runs)."""
    from llmorch.llm.health import chain_problem

    try:
        problem = await chain_problem(state.settings, timeout_s=_READY_TIMEOUT_S)
    except LlmorchError as exc:
        return state.redact(str(exc))
    return None if problem is None else state.redact(problem)


async def _index_problem(state: ServerState) -> str | None:
    try:
        await state.knowledge()
    except LlmorchError as exc:
        return state.redact(str(exc))
    return None


async def query(request: Request, state: ServerState) -> Response:
    from llmorch.workflows.ask import AskRequest

    body = await read_model(request, QueryBody, state.settings.server.max_body_bytes)
    ask = validated(AskRequest, body.model_dump())
    result = await guarded(request, state, lambda: answer(state, ask))
    return JSONResponse(
        {
            "response": result.answer,
            "sources": [s.model_dump(mode="json") for s in result.sources],
            "usage": result.usage.model_dump(),
            "model": result.model,
            "provider": result.provider,
            "status": result.status,
            "trace_id": result.trace_id,
            "run_id": result.run_id,
        }
    )


async def answer(
    state: ServerState, request: AskRequest, on_delta: OnDelta | None = None
) -> AskResult:
    """One `ask` run against the shared runtime; the index is opened off the event loop first."""
    from llmorch.workflows.asking import run_ask

    await state.knowledge_if_indexed()
    return await run_ask(
        request, state.runtime, trigger="http", on_delta=on_delta, stream=on_delta is not None
    )


async def search(request: Request, state: ServerState) -> Response:
    body = await read_model(request, SearchRequest, state.settings.server.max_body_bytes)
    hits = await state.search(body)
    return JSONResponse(
        {"hits": [h.model_dump(mode="json", exclude={"text"}) for h in hits], "count": len(hits)}
    )
