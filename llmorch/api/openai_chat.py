"""OpenAI-compatible `/v1/models` and `/v1/chat/completions`, so any OpenAI client (Open WebUI, the
`openai` SDK, curl) can talk to llmorch's modes. Answers carry their sources as numbered
references in the text, because a plain client shows nothing else."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from llmorch.api.bodies import read_model, validated
from llmorch.api.errors import HttpError, error_body, status_for
from llmorch.api.handlers import guarded, with_timeout
from llmorch.api.openai_wire import (
    MODEL_PREFIX,
    ChatCompletionBody,
    ChunkWriter,
    completion_id,
    last_question,
    sources_block,
)
from llmorch.api.routes import answer
from llmorch.errors import LlmorchError
from llmorch.llm.messages import AssistantMessage, Message, UserMessage
from llmorch.llm.stream import TextDelta

if TYPE_CHECKING:
    from llmorch.api.state import ServerState
    from llmorch.workflows.ask import AskRequest, AskResult
    from llmorch.workflows.definition import Delta

# The modes a client can pick as "models"; `rag` is also offered as `qa`, its workflow name.
MODES = {"qa": "rag", "rag": "rag", "agent": "agent"}


async def list_models(request: Request, state: ServerState) -> Response:
    data = [
        {"id": MODEL_PREFIX + name, "object": "model", "created": 0, "owned_by": "llmorch"}
        for name in offered(state)
    ]
    return JSONResponse({"object": "list", "data": data})


def offered(state: ServerState) -> list[str]:
    """The modes, then every other workflow (qa and agent are the modes' own workflows)."""
    workflows = [n for n in state.registry().names() if n not in MODES]
    return [*MODES, *workflows]


async def chat_completions(request: Request, state: ServerState) -> Response:
    body = await read_model(request, ChatCompletionBody, state.settings.server.max_body_bytes)
    name = body.model.removeprefix(MODEL_PREFIX)
    if not body.model.startswith(MODEL_PREFIX) or name not in offered(state):
        models = ", ".join(MODEL_PREFIX + m for m in offered(state))
        raise HttpError(404, "model_not_found", f"unknown model {body.model!r}; offered: {models}")
    if name not in MODES:
        from llmorch.api.openai_workflows import workflow_completion

        return await workflow_completion(request, state, body, name, last_question(body))
    ask = _ask_request(body, MODES[name])
    if body.stream:
        return await _stream(request, state, body, ask)
    result = await guarded(request, state, lambda: answer(state, ask))
    completion = {
        "id": completion_id(),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": with_sources(result)},
                "finish_reason": _finish_reason(result),
            }
        ],
        "usage": result.usage.model_dump(),
        "llmorch": _extension(result),
    }
    return JSONResponse(completion)


def _ask_request(body: ChatCompletionBody, mode: str) -> AskRequest:
    from llmorch.workflows.ask import AskRequest

    question = last_question(body)
    history: list[Message] = []
    for message in body.messages[:-1]:
        # The client's system prompt is not passed on: llmorch's own prompt makes it cite notes.
        if message.role == "user":
            history.append(UserMessage(content=message.text()))
        elif message.role == "assistant":
            history.append(AssistantMessage(content=message.text()))
    return validated(AskRequest, {"query": question, "mode": mode, "history": history})


def with_sources(result: AskResult) -> str:
    return result.answer + sources_block(result.sources)


def _finish_reason(result: AskResult) -> str:
    return "length" if result.status == "length" else "stop"


def _extension(result: AskResult) -> dict[str, Any]:
    """llmorch's own fields beside OpenAI's: clients that know them get structured sources."""
    return {
        "sources": [s.model_dump(mode="json") for s in result.sources],
        "model": result.model,
        "status": result.status,
        "trace_id": result.trace_id,
        "run_id": result.run_id,
    }


async def _stream(
    request: Request, state: ServerState, body: ChatCompletionBody, ask: AskRequest
) -> Response:
    """Server-sent events. The gate slot is taken before answering (so overload is a 503) and the
    first model output is awaited, so a model server that is down is an error status, not an
    empty stream."""
    await state.gate.acquire()
    try:
        queue: asyncio.Queue[str | None] = asyncio.Queue()

        def on_delta(delta: Delta) -> None:
            if isinstance(delta, TextDelta) and delta.text:
                queue.put_nowait(delta.text)

        async def work() -> AskResult:
            try:
                timeout = state.settings.server.request_timeout_s
                return await with_timeout(lambda: answer(state, ask, on_delta), timeout)
            finally:
                queue.put_nowait(None)

        task = asyncio.ensure_future(work())
        first = await queue.get()
        if first is None:
            await asyncio.wait([task])
            if (failure := task.exception()) is not None:
                raise failure
    except BaseException:
        state.gate.release()
        raise

    def release() -> None:
        task.cancel()  # a no-op once the answer is complete; stops the model if the client left
        state.gate.release()

    return _GatedStream(_events(body, task, queue, first), release=release)


async def _events(
    body: ChatCompletionBody,
    task: asyncio.Future[AskResult],
    queue: asyncio.Queue[str | None],
    first: str | None,
) -> AsyncGenerator[str]:
    chunk = ChunkWriter(body.model)
    yield chunk({"role": "assistant", "content": ""})
    text = first
    while text is not None:
        yield chunk({"content": text})
        text = await queue.get()
    try:
        result = await task
    except (LlmorchError, HttpError) as exc:
        yield f"data: {json.dumps(_stream_error(exc))}\n\n"
        yield "data: [DONE]\n\n"
        return
    if block := sources_block(result.sources):
        yield chunk({"content": block})
    yield chunk({}, _finish_reason(result))
    if (body.stream_options or {}).get("include_usage"):
        yield chunk.usage(result.usage.model_dump(), _extension(result))
    yield "data: [DONE]\n\n"


def _stream_error(exc: LlmorchError | HttpError) -> dict[str, Any]:
    if isinstance(exc, HttpError):
        return error_body(exc.kind, exc.message)
    return error_body(exc.kind, str(exc)) | {"status": status_for(exc)}


class _GatedStream(StreamingResponse):
    """A stream that gives its gate slot back however it ends (done, failed, client gone)."""

    def __init__(self, content: AsyncGenerator[str], *, release: Callable[[], None]) -> None:
        super().__init__(content, media_type="text/event-stream")
        self.headers["Cache-Control"] = "no-cache"
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._release()
