"""The `ChatModel` for every OpenAI-compatible server (llama.cpp, Ollama, vLLM, OpenAI).

The `openai` SDK does the HTTP work and the retries (429/5xx/timeouts, honouring Retry-After);
this module maps llmorch's messages to the chat-completions wire format, resolves the model,
smooths local-model quirks and maps failures to llmorch errors.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, cast

from llmorch.config import LlmSettings
from llmorch.errors import LlmError, LlmUnavailableError
from llmorch.llm.call_report import ReportingModel
from llmorch.llm.messages import (
    AssistantMessage,
    Completion,
    Message,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolMessage,
    Usage,
)
from llmorch.llm.model import JsonSchemaFormat, ModelCapabilities
from llmorch.llm.providers import served_models
from llmorch.llm.stream import (
    ReasoningDelta,
    StreamAssembler,
    StreamDone,
    StreamEvent,
    TextDelta,
)
from llmorch.logging import logger

if TYPE_CHECKING:
    import httpx2
    import openai
    from openai import Omit
    from openai.types.chat import (
        ChatCompletion,
        ChatCompletionMessageParam,
        ChatCompletionToolChoiceOptionParam,
        ChatCompletionToolParam,
    )
    from openai.types.chat.completion_create_params import ResponseFormat

# Local servers ignore the key, but the SDK insists on one.
PLACEHOLDER_API_KEY = "not-needed"
_CONNECT_TIMEOUT_S = 10.0


_FINAL_STATUSES = frozenset({501, 505})
"""The server cannot serve this request at all (not implemented, HTTP version): a retry only
fails again, slower. The SDK retries every 5xx."""


async def _not_retried_when_final(response: httpx2.Response) -> None:
    """Marks a final status with the header the SDK obeys over its own retry rules."""
    if response.status_code in _FINAL_STATUSES:
        response.headers["x-should-retry"] = "false"


class OpenAICompatModel(ReportingModel):
    """Chat completions (whole or streamed) against one server and model."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 2,
        temperature: float = 0.2,
        capabilities: ModelCapabilities | None = None,
        name: str = "default",
        http_client: httpx2.AsyncClient | None = None,
    ) -> None:
        import httpx2
        import openai

        self.name = name
        self.base_url = base_url.rstrip("/")
        self._model = model
        self._timeout_s = timeout_s
        self._max_retries = max_retries
        self._temperature = temperature
        self._overrides = capabilities or ModelCapabilities()
        self._capabilities: ModelCapabilities | None = None
        self._schema_in_json_object = False
        self._model_remembered = False
        http_client = http_client or _refused_fast_client()
        http_client.event_hooks["response"].append(_not_retried_when_final)
        self._sdk = openai.AsyncOpenAI(
            api_key=api_key or PLACEHOLDER_API_KEY,
            base_url=self.base_url,
            timeout=httpx2.Timeout(timeout_s, connect=min(_CONNECT_TIMEOUT_S, timeout_s)),
            max_retries=max_retries,
            http_client=http_client,
        )

    @classmethod
    def from_settings(
        cls, settings: LlmSettings, *, http_client: httpx2.AsyncClient | None = None
    ) -> OpenAICompatModel:
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        return cls(
            base_url=settings.base_url,
            model=settings.model,
            api_key=key,
            timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
            temperature=settings.temperature,
            http_client=http_client,
        )

    @property
    def provider(self) -> str:
        return "openai"

    async def capabilities(self) -> ModelCapabilities:
        """What the server tells (llama.cpp's /props, vLLM's model list), under config overrides."""
        if self._capabilities is None:
            from llmorch.llm.providers.server_props import probe_capabilities

            told = await probe_capabilities(self._sdk, self.base_url)
            self._capabilities = told.model_copy(
                update=self._overrides.model_dump(exclude_none=True)
            )
        return self._capabilities

    async def __aenter__(self) -> OpenAICompatModel:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._sdk.close()

    async def list_models(self) -> list[str]:
        import openai

        try:
            page = await self._sdk.models.list()
        except openai.OpenAIError as exc:
            self._raise(exc, model=self._model or "")
        except (AttributeError, TypeError) as exc:
            # The SDK's pager fails on a body that is not JSON (a web page at base_url).
            raise _not_an_api(self.base_url, "a non-JSON model list") from exc
        return [m.id for m in page.data]

    async def model(self) -> str:
        """The configured model, else the first one the server lists: asked once, then remembered
        between runs until the server refuses it."""
        if self._model is None:
            self._model = served_models.remembered(self.base_url)
            self._model_remembered = self._model is not None
        if self._model is None:
            offered = await self.list_models()
            if not offered:
                raise LlmError(f"the LLM at {self.base_url} lists no models", hint="set llm.model")
            self._model = offered[0]
            served_models.remember(self.base_url, self._model)
        return self._model

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
        """One whole turn. `tool_choice` is auto/none/required or a tool name to force."""
        import openai
        from openai import omit

        model = await self.model()
        messages, tools = self._routed(messages, tools)
        request = self._request(model, messages, tools, tool_choice, temperature, max_tokens)
        started_at = time.perf_counter()
        try:
            response = await self._sdk.chat.completions.create(
                model=request.model,
                messages=request.messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                tools=request.tools,
                tool_choice=request.tool_choice,
                response_format=omit
                if response_format is None
                else self._response_format(response_format),
            )
        except openai.APIStatusError as exc:
            from llmorch.llm.failures import rejects_json_schema

            resendable = response_format is not None and not self._schema_in_json_object
            if not (resendable and rejects_json_schema(exc)):
                await self._raise_with_models(exc, model)
            logger.info("{} wants the schema in a json_object response_format", self.base_url)
            self._schema_in_json_object = True
            return await self._complete(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                temperature=temperature,
                max_tokens=max_tokens,
                response_format=response_format,
            )
        except openai.OpenAIError as exc:
            await self._raise_with_models(exc, model)
        return _logged(_completion(response, self.base_url), started_at, len(request.messages))

    def _response_format(self, fmt: JsonSchemaFormat) -> ResponseFormat:
        """OpenAI's json_schema form; llama-cpp-python's server takes the schema in json_object."""
        if self._schema_in_json_object:
            llama_form: dict[str, object] = {"type": "json_object", "schema": fmt.json_schema}
            return cast("ResponseFormat", llama_form)
        return {
            "type": "json_schema",
            "json_schema": {"name": fmt.name, "schema": fmt.json_schema, "strict": fmt.strict},
        }

    async def _stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Text and reasoning deltas as they arrive, then one StreamDone with the whole turn."""
        import openai

        model = await self.model()
        messages, tools = self._routed(messages, tools)
        request = self._request(model, messages, tools, tool_choice, temperature, max_tokens)
        assembler = StreamAssembler()
        responded = started = False
        started_at = time.perf_counter()
        try:
            chunks = await self._sdk.chat.completions.create(
                model=request.model,
                messages=request.messages,
                temperature=request.temperature,
                max_tokens=request.max_tokens,
                tools=request.tools,
                tool_choice=request.tool_choice,
                stream=True,
                stream_options={"include_usage": True},
            )
            responded = True
            async with chunks:
                async for chunk in chunks:
                    started = True
                    for event in assembler.feed(chunk):
                        yield event
        except openai.APIConnectionError as exc:
            from llmorch.llm.failures import dropped_connection

            reached = responded or dropped_connection(exc)
            if not reached or isinstance(exc, openai.APITimeoutError):
                await self._raise_with_models(exc, model)
            if started:
                # The server was reached and had begun answering: it is not "unreachable".
                raise LlmError(
                    f"the connection to the LLM at {self.base_url} broke mid-answer",
                    hint="check the server's log; it may have crashed or run out of memory",
                ) from exc
        except openai.OpenAIError as exc:
            await self._raise_with_models(exc, model)
        if not started:
            # llama-cpp-python cannot stream a turn in which the model calls a tool: it sends an
            # empty stream, or drops the connection. The turn is not empty: ask for it whole.
            logger.info("{} sent an empty stream; asking again without streaming", self.base_url)
            whole = await self._complete(
                messages,
                tools=tools,
                tool_choice=tool_choice,
                temperature=temperature,
                max_tokens=max_tokens,
            )
            for event in _whole_turn_events(whole):
                yield event
            return
        tail, completion = assembler.finish()
        for event in tail:
            yield event
        completion = completion.model_copy(update={"provider": self.provider})
        yield StreamDone(_logged(completion, started_at, len(request.messages)))

    def _routed(
        self, messages: Sequence[Message], tools: Sequence[ToolDefinition]
    ) -> tuple[Sequence[Message], Sequence[ToolDefinition]]:
        """Without native tool calls (as configured, or as the server told), tools go in the prompt."""
        told = self._capabilities or self._overrides
        if not tools or told.tools is not False:
            return messages, tools
        from llmorch.llm.text_tools import prompted_tools

        return prompted_tools(messages, tools), ()

    def _request(
        self,
        model: str,
        messages: Sequence[Message],
        tools: Sequence[ToolDefinition],
        tool_choice: str,
        temperature: float | None,
        max_tokens: int | None,
    ) -> _ChatRequest:
        from openai import omit

        return _ChatRequest(
            model=model,
            messages=[message_param(m) for m in messages],
            temperature=self._temperature if temperature is None else temperature,
            max_tokens=omit if max_tokens is None else max_tokens,
            tools=[tool_param(t) for t in tools] if tools else omit,
            tool_choice=_tool_choice(tool_choice) if tools else omit,
        )

    async def _raise_with_models(self, exc: openai.OpenAIError, model: str) -> NoReturn:
        import openai

        from llmorch.llm import failures

        offered: list[str] | None = None
        if isinstance(exc, openai.APIStatusError) and failures.is_unknown_model(exc):
            if self._model_remembered:
                # The server no longer serves the model it listed first before: ask it again.
                served_models.remember(self.base_url, None)
                self._model = None
                self._model_remembered = False
            try:
                offered = [m.id for m in (await self._sdk.models.list()).data]
            except openai.OpenAIError:
                offered = None  # the listing is a courtesy; the original failure is what matters
        self._raise(exc, model=model, offered=offered)

    def _raise(
        self, exc: openai.OpenAIError, *, model: str, offered: list[str] | None = None
    ) -> NoReturn:
        from llmorch.llm import failures

        raise failures.from_openai_error(
            exc,
            base_url=self.base_url,
            model=model,
            retries=self._max_retries,
            timeout_s=self._timeout_s,
            offered_models=offered,
        ) from exc


def _refused_fast_client() -> httpx2.AsyncClient:
    import openai

    from llmorch.llm.providers.refused_fast import RefusedFastTransport

    def refused(request: httpx2.Request) -> Exception:
        return openai.APIConnectionError(request=request)

    return openai.DefaultAsyncHttpxClient(transport=RefusedFastTransport(refused))


@dataclass(frozen=True, slots=True)
class _ChatRequest:
    """The arguments both `complete` and `stream` send, typed as the SDK wants them."""

    model: str
    messages: list[ChatCompletionMessageParam]
    temperature: float
    max_tokens: int | Omit
    tools: list[ChatCompletionToolParam] | Omit
    tool_choice: ChatCompletionToolChoiceOptionParam | Omit


def message_param(message: Message) -> ChatCompletionMessageParam:
    """One llmorch message in the chat-completions wire format."""
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.content}
    if isinstance(message, AssistantMessage):
        return _assistant_param(message)
    if isinstance(message, ToolMessage):
        return {"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content}
    return {"role": "user", "content": message.content}


def _assistant_param(message: AssistantMessage) -> ChatCompletionMessageParam:
    # Content is always a string, never null: llama-cpp-python's server rejects null, and its
    # chatml-function-calling template reads `content` even on tool-call turns. Reasoning is
    # never sent back.
    if not message.tool_calls:
        return {"role": "assistant", "content": message.content or ""}
    return {
        "role": "assistant",
        "content": message.content or "",
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ],
    }


def tool_param(tool: ToolDefinition) -> ChatCompletionToolParam:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }


def _tool_choice(choice: str) -> ChatCompletionToolChoiceOptionParam:
    if choice in ("auto", "none", "required"):
        return choice  # pyright: ignore[reportReturnType]
    return {"type": "function", "function": {"name": choice}}


def _whole_turn_events(completion: Completion) -> list[StreamEvent]:
    """A whole turn as the events a stream of it would have produced."""
    message = completion.message
    events: list[StreamEvent] = []
    if message.reasoning:
        events.append(ReasoningDelta(message.reasoning))
    if message.content:
        events.append(TextDelta(message.content))
    events.append(StreamDone(completion))
    return events


def _logged(completion: Completion, started_at: float, sent: int) -> Completion:
    """One INFO line per model turn, so `-v` shows where the time and tokens go."""
    usage = completion.usage
    logger.info(
        "model {} answered {} messages in {:.0f} ms: {} tool calls, {} tokens, finish {}",
        completion.model,
        sent,
        (time.perf_counter() - started_at) * 1000,
        len(completion.message.tool_calls),
        usage.total_tokens if usage is not None else "?",
        completion.finish_reason,
    )
    return completion


def _not_an_api(base_url: str, said: str) -> LlmError:
    return LlmUnavailableError(
        f"the server at {base_url} did not answer like an OpenAI-compatible API: {said}",
        hint="check llm.base_url; it usually ends in /v1",
    )


def _completion(response: ChatCompletion, base_url: str) -> Completion:
    from openai.types.chat import ChatCompletion

    from llmorch.llm.quirks import assistant_from_parts, reasoning_from_extra

    # The SDK hands back the raw text when a body is not JSON (a web page, a proxy's notice).
    if not isinstance(cast("object", response), ChatCompletion):
        raise _not_an_api(base_url, repr(" ".join(str(response).split())[:80]))
    if not response.choices:
        raise LlmError(f"the LLM answered with no choices (model {response.model!r})")
    choice = response.choices[0]
    raw = choice.message
    calls = [
        ToolCall(id=c.id, name=c.function.name, arguments=c.function.arguments or "{}")
        for c in raw.tool_calls or ()
        if c.type == "function"
    ]
    legacy = raw.function_call
    message = assistant_from_parts(
        raw.content,
        reasoning_from_extra(raw.model_extra),
        calls,
        None
        if legacy is None
        else ToolCall(id="call_0", name=legacy.name, arguments=legacy.arguments or "{}"),
    )
    usage = response.usage
    return Completion(
        message=message,
        finish_reason=choice.finish_reason,
        usage=None
        if usage is None
        else Usage(
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            total_tokens=usage.total_tokens,
        ),
        model=response.model,
        provider="openai",
    )
