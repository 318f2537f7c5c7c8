"""Every failure an HTTP client can see is a JSON body with a status code, never a traceback.

The body has OpenAI's error shape (`{"error": {"message", "type", "code"}}`) so OpenAI clients
show the message as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.responses import JSONResponse

from llmorch.errors import LlmorchError

# LlmorchError kinds as HTTP statuses: the client's fault is 4xx, a model or index behind the
# server that fails is 502/503, and the rest is the server's own 500.
_STATUS_BY_KIND = {
    "usage": 422,
    "config": 500,
    "llm_unreachable": 502,
    "llm": 502,
    "retrieval": 503,
    "tool": 500,
    "ingest": 500,
    "workflow": 500,
    "interrupted": 503,
}


class HttpError(Exception):
    """A request that ends with `status` and a one-line message."""

    def __init__(
        self,
        status: int,
        kind: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: object = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
        self.headers = dict(headers or {})
        self.details = details


def status_for(exc: LlmorchError) -> int:
    return _STATUS_BY_KIND.get(exc.kind, 500)


def error_body(kind: str, message: str, details: object = None) -> dict[str, object]:
    error: dict[str, object] = {"message": message, "type": kind, "code": kind}
    if details is not None:
        error["details"] = details
    return {"error": error}


def http_error_response(exc: HttpError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.kind, exc.message, exc.details), exc.status, headers=exc.headers
    )


def llmorch_error_response(exc: LlmorchError, redact: Callable[[str], str]) -> JSONResponse:
    """The CLI's one-line message, with every configured secret redacted."""
    return JSONResponse(error_body(exc.kind, redact(str(exc))), status_for(exc))
