"""The frame every endpoint runs in: its trace (from `traceparent`), its errors as JSON, and for
model work the in-flight gate, the request timeout and cancellation when the client goes away."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from starlette.requests import Request
from starlette.responses import Response

from llmorch.api.errors import HttpError, http_error_response, llmorch_error_response
from llmorch.errors import LlmorchError
from llmorch.logging import logger, trace_context

if TYPE_CHECKING:
    from llmorch.api.state import ServerState

T = TypeVar("T")
Handler = Callable[["Request", "ServerState"], Awaitable["Response"]]

# W3C trace context: version-traceid-parentid-flags; an all-zero trace id is invalid.
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_id_from(traceparent: str | None) -> str | None:
    match = _TRACEPARENT.match((traceparent or "").strip().lower())
    if match is None or set(match.group(1)) == {"0"}:
        return None
    return match.group(1)


def server_state(request: Request) -> ServerState:
    return request.app.state.llmorch


def endpoint(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint around `handler` that turns every failure into a JSON error."""

    async def run(request: Request) -> Response:
        state = server_state(request)
        with trace_context(trace_id_from(request.headers.get("traceparent"))):
            try:
                return await handler(request, state)
            except HttpError as exc:
                return http_error_response(exc)
            except LlmorchError as exc:
                logger.warning("{} {}: {}", request.method, request.url.path, exc)
                return llmorch_error_response(exc, state.redact)
            except Exception:
                logger.exception("{} {} failed", request.method, request.url.path)
                return http_error_response(
                    HttpError(500, "internal_error", "internal error; the server log has details")
                )

    return run


async def guarded(request: Request, state: ServerState, work: Callable[[], Awaitable[T]]) -> T:
    """Run model work in a gate slot, within the request timeout, cancelled if the client leaves."""
    async with state.gate.slot():
        task = asyncio.ensure_future(with_timeout(work, state.settings.server.request_timeout_s))
        gone = asyncio.ensure_future(wait_for_disconnect(request))
        try:
            await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if task.cancelled():
            raise HttpError(499, "client_closed", "the client closed the connection")
        return task.result()


async def with_timeout(work: Callable[[], Awaitable[T]], timeout_s: float) -> T:
    try:
        async with asyncio.timeout(timeout_s):
            return await work()
    except TimeoutError:
        raise HttpError(
            504, "timeout", f"no answer within server.request_timeout_s ({timeout_s:g} s)"
        ) from None


async def wait_for_disconnect(request: Request) -> None:
    """Returns when the client disconnects (call it only once the body has been read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
