"""The `ChatModel` for Anthropic's Messages API, on the official `anthropic` SDK.

Imported only when a profile says `provider: anthropic`. The SDK does the HTTP work and the
retries (429/5xx/overloaded, honouring retry-after); this module maps messages, streams and
failures to llmorch's own, so the tool loop cannot tell which provider answered.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from typing import NoReturn

import anthropic
import httpx2
from anthropic.types.message_create_params import MessageCreateParamsBase

from llmorch.errors import ConfigError, LlmError, LlmUnavailableError, LlmUnreachableError
from llmorch.llm.call_report import ReportingModel
from llmorch.llm.messages import (
    AssistantMessage,
    Completion,
    Message,
    ToolCall,
    ToolDefinition,
    Usage,
)
from llmorch.llm.model import JsonSchemaFormat, ModelCapabilities
from llmorch.llm.providers import anthropic_wire as wire
from llmorch.llm.providers.refused_fast import RefusedFastTransport
from llmorch.llm.stream import ReasoningDelta, StreamDone, StreamEvent, TextDelta

DEFAULT_BASE_URL = "https://api.anthropic.com"
_MAX_TOKENS = 4096  # the API requires a bound; the tool loop passes its own when it has one
_CONNECT_TIMEOUT_S = 10.0
_CAPABILITIES = ModelCapabilities(tools=True, json_schema=False, context_length=200_000)
"""What every current Claude model can do; structured output takes the prompted path."""


class _ConnectionRefused(anthropic.AnthropicError):
    """Raised by the transport on a refused connect; the SDK passes its own errors on unretried."""


class AnthropicModel(ReportingModel):
    """Claude through the Messages API: system prompt, tools, thinking, streaming."""

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 2,
        temperature: float = 0.2,
        capabilities: ModelCapabilities | None = None,
        name: str = "anthropic",
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        del temperature  # the SDK no longer takes one on Messages; Claude's default is used
        self.name = name
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self._model = model
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        overrides = (capabilities or ModelCapabilities()).model_dump(exclude_none=True)
        self._capabilities = _CAPABILITIES.model_copy(update=overrides)

        def refused(request: httpx2.Request) -> Exception:
            return _ConnectionRefused(f"connection refused: {request.url}")

        # The SDK reads ANTHROPIC_API_KEY itself; without either it fails only at the first call.
        self._has_key = bool(api_key or os.environ.get("ANTHROPIC_API_KEY"))
        self._sdk = anthropic.AsyncAnthropic(
            api_key=api_key,
            base_url=self.base_url,
            timeout=httpx2.Timeout(timeout_s, connect=min(_CONNECT_TIMEOUT_S, timeout_s)),
            max_retries=max_retries,
            http_client=http_client
            or anthropic.DefaultAsyncHttpxClient(transport=RefusedFastTransport(refused)),
        )

    @property
    def provider(self) -> str:
        return "anthropic"

    async def model(self) -> str:
        return self._model

    async def list_models(self) -> list[str]:
        self._require_key()
        try:
            page = await self._sdk.models.list()
        except anthropic.AnthropicError as exc:
            self._raise(exc)
        return [m.id for m in page.data]

    async def capabilities(self) -> ModelCapabilities:
        return self._capabilities

    async def __aenter__(self) -> AnthropicModel:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._sdk.close()

    async def _complete(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
        response_format: JsonSchemaFormat | None = None,
    ) -> Completion:
        """One whole turn; `response_format` is not enforced here (capabilities say so)."""
        del temperature, response_format
        self._require_key()
        request = self._request(messages, tools, tool_choice, max_tokens)
        try:
            response = await self._sdk.messages.create(**request)
        except anthropic.AnthropicError as exc:
            self._raise(exc)
        return wire.completion_from(response)

    async def _stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Text and thinking deltas as the SSE events arrive, then the whole turn."""
        del temperature
        self._require_key()
        turn = _StreamedTurn(self._model)
        request = self._request(messages, tools, tool_choice, max_tokens)
        try:
            events = await self._sdk.messages.create(**request, stream=True)
            async with events:
                async for event in events:
                    delta = turn.feed(event)
                    if delta is not None:
                        yield delta
        except anthropic.AnthropicError as exc:
            self._raise(exc)
        yield StreamDone(turn.completion())

    def _request(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolDefinition],
        tool_choice: str,
        max_tokens: int | None,
    ) -> MessageCreateParamsBase:
        """What both `complete` and `stream` send."""
        request: MessageCreateParamsBase = {
            "model": self._model,
            "max_tokens": max_tokens or _MAX_TOKENS,
            "messages": wire.message_params(messages),
        }
        if system := wire.system_prompt(messages):
            request["system"] = system
        if tools:
            request["tools"] = wire.tool_params(tools)
            request["tool_choice"] = wire.tool_choice_param(tool_choice)
        return request

    def _require_key(self) -> None:
        if not self._has_key:
            raise ConfigError(
                f"profile {self.name!r} has no Anthropic API key",
                hint=f"set models.{self.name}.api_key_env or api_key_file, or ANTHROPIC_API_KEY",
            )

    def _raise(self, exc: anthropic.AnthropicError) -> NoReturn:
        raise from_anthropic_error(
            exc, base_url=self.base_url, model=self._model, retries=self._max_retries
        ) from exc


class _StreamedTurn:
    """Assembles the SSE events (message_start … content_block_* … message_delta) into one turn."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.text: list[str] = []
        self.thinking: list[str] = []
        self.calls: dict[int, tuple[str, str, list[str]]] = {}
        self.stop: str | None = None
        self.usage = Usage()

    def feed(self, event: anthropic.types.RawMessageStreamEvent) -> StreamEvent | None:
        if event.type == "message_start":
            self.model = event.message.model
            self._count(event.message.usage.input_tokens, event.message.usage.output_tokens)
        elif event.type == "content_block_start" and event.content_block.type == "tool_use":
            block = event.content_block
            self.calls[event.index] = (block.id, block.name, [])
        elif event.type == "content_block_delta":
            delta = event.delta
            if delta.type == "text_delta":
                self.text.append(delta.text)
                return TextDelta(delta.text)
            if delta.type == "thinking_delta":
                self.thinking.append(delta.thinking)
                return ReasoningDelta(delta.thinking)
            if delta.type == "input_json_delta" and event.index in self.calls:
                self.calls[event.index][2].append(delta.partial_json)
        elif event.type == "message_delta":
            self.stop = event.delta.stop_reason
            self._count(event.usage.input_tokens or 0, event.usage.output_tokens)
        return None

    def _count(self, prompt: int, completion: int) -> None:
        # message_start carries the prompt; message_delta the (cumulative) output count.
        prompt = prompt or self.usage.prompt_tokens
        self.usage = Usage(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )

    def completion(self) -> Completion:
        calls = [
            ToolCall(id=call_id, name=name, arguments="".join(parts) or "{}")
            for call_id, name, parts in (self.calls[i] for i in sorted(self.calls))
        ]
        message = AssistantMessage(
            content="".join(self.text) or None,
            tool_calls=calls,
            reasoning="".join(self.thinking) or None,
        )
        return Completion(
            message=message,
            finish_reason=wire.stop_reason(self.stop),
            usage=self.usage,
            model=self.model,
            provider="anthropic",
        )


def from_anthropic_error(
    exc: anthropic.AnthropicError, *, base_url: str, model: str, retries: int
) -> LlmError | LlmUnreachableError:
    """The same kinds, messages and exit codes as the OpenAI-compatible path."""
    if isinstance(exc, _ConnectionRefused):
        return LlmUnreachableError(
            f"cannot reach Anthropic at {base_url}",
            hint="check the network or the profile's base_url",
        )
    if isinstance(exc, anthropic.APITimeoutError):
        return LlmUnavailableError(f"Anthropic at {base_url} did not answer in time")
    if isinstance(exc, anthropic.APIConnectionError):
        return LlmUnreachableError(
            f"cannot reach Anthropic at {base_url}",
            hint="check the network or the profile's base_url",
        )
    if not isinstance(exc, anthropic.APIStatusError):
        return LlmError(f"Anthropic at {base_url} failed: {exc}")
    status, kind = exc.status_code, exc.type or ""
    said = " ".join((exc.api_message or exc.message).split())
    after = f" after {retries} retries" if retries else ""
    if status in (401, 403):
        return LlmError(
            f"Anthropic refused the API key ({status}): {said}",
            hint="set the profile's api_key_env or api_key_file",
        )
    if status == 429:
        wait = exc.response.headers.get("retry-after")
        retry = f"; retry after {wait}s" if wait else ""
        return LlmUnavailableError(
            f"Anthropic is rate limiting requests (429){after}{retry}: {said}"
        )
    if status == 529 or kind == "overloaded_error":
        return LlmUnavailableError(f"Anthropic is overloaded ({status}){after}: {said}")
    if "prompt is too long" in said.lower() or (
        "context" in said.lower() and "too long" in said.lower()
    ):
        return LlmError(
            f"the conversation is too long for the context window of {model!r}: {said}",
            hint="ask a shorter question, lower tools.max_result_chars or use a larger context",
        )
    if status == 404 and kind == "not_found_error":
        return LlmError(
            f"model {model!r} is not available at Anthropic: {said}", hint="set the profile's model"
        )
    if status >= 500:
        return LlmUnavailableError(f"Anthropic failed ({status}){after}: {said}")
    return LlmError(f"Anthropic rejected the request ({status}): {said}")
