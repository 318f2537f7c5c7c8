"""Reading a request body safely: a size cap, JSON only, and validation into a pydantic model."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from llmorch.api.errors import HttpError

if TYPE_CHECKING:
    from starlette.requests import Request

M = TypeVar("M", bound=BaseModel)


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, refused with 413 past `limit` bytes (checked as it arrives, not trusted from
    Content-Length alone)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, limit: int) -> Any:
    """The body as JSON: 415 unless it says application/json, 400 when it does not parse."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/json" and not kind.endswith("+json"):
        raise HttpError(
            415, "unsupported_media_type", "send the body as JSON (Content-Type: application/json)"
        )
    body = await read_body(request, limit)
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpError(400, "invalid_json", f"the body is not valid JSON: {exc}") from exc


def validated(model: type[M], data: Any) -> M:
    """`data` as `model`, or 422 naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors()
        ]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        raise HttpError(422, "invalid_request", summary, details=problems) from exc


async def read_model(request: Request, model: type[M], limit: int) -> M:
    return validated(model, await read_json(request, limit))


def _too_large(limit: int) -> HttpError:
    return HttpError(413, "body_too_large", f"the body is larger than {limit} bytes")
