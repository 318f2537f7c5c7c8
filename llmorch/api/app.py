"""The ASGI app `llmorch serve` runs: routes, the key check, CORS, and the shared state's lifetime."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from llmorch.api import openai_chat, routes, run_routes, workflow_routes
from llmorch.api.errors import HttpError, http_error_response
from llmorch.api.handlers import endpoint
from llmorch.api.security import bearer_token, check_api_key
from llmorch.api.state import ServerState
from llmorch.config import Settings

# Reachable without an API key: liveness for probes, and webhooks, which carry their own secret.
PUBLIC_PATHS = ("/health", "/hooks/")
MCP_PATH = "/mcp"


def create_app(settings: Settings) -> Starlette:
    from llmorch.mcp.server import http_app

    state = ServerState.create(settings)
    # The MCP server over the same runtime (one model client, one open index), behind the keys.
    mcp = http_app(settings, path=MCP_PATH, runtime=state.runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncGenerator[None]:
        state.start()
        try:
            async with mcp.router.lifespan_context(mcp):  # MCP's session manager
                yield
        finally:
            await state.aclose()

    server = settings.server
    middleware = [Middleware(ApiKeyCheck, keys=server.keys())]
    if server.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=server.cors_origins,
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "X-API-Key", "traceparent"],
            )
        )
    app = Starlette(
        routes=[*_routes(), Route(MCP_PATH, mcp)],
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_exception},
    )
    app.state.llmorch = state
    return app


def _routes() -> list[Route]:
    return [
        Route("/health", endpoint(routes.health)),
        Route("/ready", endpoint(routes.ready)),
        Route("/api/query", endpoint(routes.query), methods=["POST"]),
        Route("/api/search", endpoint(routes.search), methods=["POST"]),
        Route("/api/workflows", endpoint(workflow_routes.list_workflows)),
        Route(
            "/api/workflows/{name}/run",
            endpoint(workflow_routes.run_workflow_route),
            methods=["POST"],
        ),
        Route("/api/runs/{id}", endpoint(run_routes.get_run)),
        Route("/hooks/{name}", endpoint(workflow_routes.webhook), methods=["POST"]),
        Route("/v1/models", endpoint(openai_chat.list_models)),
        Route("/v1/chat/completions", endpoint(openai_chat.chat_completions), methods=["POST"]),
    ]


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own 404/405 as JSON errors like every other failure."""
    assert isinstance(exc, HTTPException)
    kind = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return http_error_response(HttpError(exc.status_code, kind, exc.detail))


class ApiKeyCheck:
    """401 for any request outside PUBLIC_PATHS without a configured key (none configured: open)."""

    def __init__(self, app: ASGIApp, keys: Sequence[str]) -> None:
        self.app = app
        self.keys = list(keys)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.keys or _is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        try:
            check_api_key(
                bearer_token(headers.get("authorization"), headers.get("x-api-key")), self.keys
            )
        except HttpError as exc:
            exc.headers.setdefault("WWW-Authenticate", "Bearer")
            await http_error_response(exc)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _is_public(path: str) -> bool:
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)
