"""Turns `openai` SDK exceptions into llmorch errors whose one-line message says what to do.

Imported lazily by the client, so the SDK import stays off the CLI's start-up path.
"""

from __future__ import annotations

import re
from typing import cast

import httpx2
import openai

from llmorch.errors import LlmError, LlmorchError, LlmUnavailableError, LlmUnreachableError
from llmorch.redaction import redact

_CONTEXT_MARKERS = (
    "context length",
    "context_length",
    "context window",
    "context size",
    "maximum context",
    "too many tokens",
    "exceed_context",
)
_UNKNOWN_MODEL_MARKERS = (
    "not found",
    "does not exist",
    "unknown model",
    "invalid model",
    "no model",
)
_MESSAGE_LIMIT = 200
_HTML_TAG = re.compile(r"<[^>]*>")
_HTML_HEAD = re.compile(r"(?is)<head\b.*?</head>|<title\b.*?</title>")


def unreachable(base_url: str) -> LlmUnreachableError:
    return LlmUnreachableError(
        f"cannot reach the LLM at {base_url} — is llama.cpp/Ollama running?",
        hint="start the server or set llm.base_url",
    )


def dropped_connection(exc: openai.OpenAIError) -> bool:
    """The server accepted the connection, then closed it without a (whole) answer."""
    return isinstance(exc, openai.APIConnectionError) and isinstance(
        exc.__cause__, httpx2.ReadError | httpx2.RemoteProtocolError
    )


def server_message(exc: openai.APIError) -> str:
    """The server's own words, from whichever error body shape it uses, on one short line, with
    any secret it echoed back (gateways quote the key they refused) redacted."""
    text = _body_text(exc.body) or exc.message
    if text.lstrip().startswith("<"):
        text = _page_words(text)
    flat = redact(" ".join(text.split()))
    return flat if len(flat) <= _MESSAGE_LIMIT else flat[: _MESSAGE_LIMIT - 1] + "…"


def _page_words(page: str) -> str:
    """An error page's words, not its markup, said once: the title usually repeats the heading."""
    body = _HTML_HEAD.sub(" ", page)
    words = " ".join(_HTML_TAG.sub(" ", body).split())
    return words or " ".join(_HTML_TAG.sub(" ", page).split())


def _body_text(body: object) -> str | None:
    # OpenAI/vLLM/Ollama: {"error": {"message": …}} or {"error": "…"}; FastAPI: {"detail": …}.
    if isinstance(body, str):
        return body or None
    if not isinstance(body, dict):
        return None
    fields = cast("dict[str, object]", body)
    for key in ("error", "message", "detail"):
        found = _body_text(fields.get(key))
        if found:
            return found
    return None


def rejects_json_schema(exc: openai.APIStatusError) -> bool:
    """llama-cpp-python's server refuses `{"type": "json_schema"}` (with a 500) and names the
    types it takes; it constrains decoding to a schema given inside `{"type": "json_object"}`."""
    return exc.status_code in (400, 422, 500) and "json_object" in server_message(exc)


def is_unknown_model(exc: openai.APIStatusError) -> bool:
    if exc.status_code not in (400, 404):
        return False
    text = server_message(exc).lower()
    return "model" in text and any(marker in text for marker in _UNKNOWN_MODEL_MARKERS)


def from_openai_error(
    exc: openai.OpenAIError,
    *,
    base_url: str,
    model: str,
    retries: int,
    timeout_s: float,
    offered_models: list[str] | None = None,
) -> LlmorchError:
    """Map one SDK failure (already retried by the SDK where that makes sense) to our errors."""
    if isinstance(exc, openai.APITimeoutError):
        if isinstance(exc.__cause__, httpx2.ConnectTimeout | httpx2.PoolTimeout):
            return unreachable(base_url)
        return LlmUnavailableError(
            f"the LLM at {base_url} did not answer within {timeout_s:g}s"
            + (f" (tried {retries + 1} times)" if retries else ""),
            hint="raise llm.timeout_s or use a smaller model",
        )
    if dropped_connection(exc):
        return LlmUnavailableError(
            f"the LLM at {base_url} closed the connection without answering",
            hint="check the server's log; it may have crashed or run out of memory",
        )
    if isinstance(exc, openai.APIConnectionError):
        return unreachable(base_url)
    if isinstance(exc, openai.APIStatusError):
        return _from_status(exc, base_url, model, retries, offered_models)
    return LlmError(f"the LLM at {base_url} failed: {exc}")


def _from_status(
    exc: openai.APIStatusError,
    base_url: str,
    model: str,
    retries: int,
    offered_models: list[str] | None,
) -> LlmError:
    status = exc.status_code
    said = server_message(exc)
    if status in (401, 403):
        return LlmError(
            f"the LLM server at {base_url} refused the API key ({status}): {said}",
            hint="set llm.api_key or LLMORCH_LLM__API_KEY",
        )
    if is_unknown_model(exc):
        offered = ", ".join(offered_models) if offered_models else "none listed"
        return LlmError(
            f"model {model!r} is not available at {base_url}; the server offers: {offered}",
            hint="set llm.model to one of those",
        )
    if any(marker in said.lower() for marker in _CONTEXT_MARKERS):
        return LlmError(
            f"the conversation is too long for the context window of {model!r}: {said}",
            hint="ask a shorter question, lower tools.max_result_chars or use a larger context",
        )
    after = f" after {retries} retries" if retries else ""
    if status == 429:
        return LlmUnavailableError(
            f"the LLM at {base_url} is rate limiting requests (429){after}: {said}",
            hint="wait a moment and try again",
        )
    if status == 501:
        return LlmError(
            f"the LLM server at {base_url} does not implement this request (501): {said}",
            hint="check that llm.base_url is an OpenAI-compatible API",
        )
    if status >= 500:
        return LlmUnavailableError(f"the LLM server at {base_url} failed ({status}){after}: {said}")
    return LlmError(f"the LLM server at {base_url} rejected the request ({status}): {said}")
