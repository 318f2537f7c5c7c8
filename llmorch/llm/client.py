"""One async client for every OpenAI-compatible server (llama.cpp, Ollama, vLLM, OpenAI).

The `openai` SDK does the HTTP work and the retries (429/5xx/timeouts, honouring Retry-After);
this class resolves the model, smooths local-model quirks and maps failures to llmorch errors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn, cast

from llmorch.config import EmbeddingSettings, LlmSettings
from llmorch.errors import LlmError
from llmorch.llm.messages import Completion, Message, ToolCall, ToolDefinition, Usage
from llmorch.llm.model import JsonSchemaFormat, ModelCapabilities
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
_EMBED_CONCURRENCY = 4


class LlmClient:
    """Chat completions (whole or streamed) and embeddings against one server and model."""

    def __init__(
        self, settings: LlmSettings, *, http_client: httpx2.AsyncClient | None = None
    ) -> None:
        import httpx2
        import openai

        self.settings = settings
        self.base_url = settings.base_url.rstrip("/")
        self._model = settings.model
        self._schema_in_json_object = False
        key = settings.api_key.get_secret_value() if settings.api_key is not None else None
        self._sdk = openai.AsyncOpenAI(
            api_key=key or PLACEHOLDER_API_KEY,
            base_url=self.base_url,
            timeout=httpx2.Timeout(
                settings.timeout_s, connect=min(_CONNECT_TIMEOUT_S, settings.timeout_s)
            ),
            max_retries=settings.max_retries,
            http_client=http_client,
        )

    @classmethod
    def for_embeddings(
        cls, settings: EmbeddingSettings, *, http_client: httpx2.AsyncClient | None = None
    ) -> LlmClient:
        """A client for the embedding endpoint, which may be a different server than chat."""
        llm = LlmSettings(
            base_url=settings.base_url, api_key=settings.api_key, model=settings.model
        )
        return cls(llm, http_client=http_client)

    @property
    def provider(self) -> str:
        return "openai"

    async def capabilities(self) -> ModelCapabilities:
        return ModelCapabilities()

    async def __aenter__(self) -> LlmClient:
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
        """The configured model, else the first one the server lists (asked once, then cached)."""
        if self._model is None:
            offered = await self.list_models()
            if not offered:
                raise LlmError(f"the LLM at {self.base_url} lists no models", hint="set llm.model")
            self._model = offered[0]
        return self._model

    async def complete(
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

            if response_format is None or self._schema_in_json_object:
                await self._raise_with_models(exc, model)
            if not rejects_json_schema(exc):
                await self._raise_with_models(exc, model)
            logger.info("{} wants the schema in a json_object response_format", self.base_url)
            self._schema_in_json_object = True
            return await self.complete(
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

    async def stream(
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
            whole = await self.complete(
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
        yield StreamDone(_logged(completion, started_at, len(request.messages)))

    async def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, model: str | None = None
    ) -> list[list[float]]:
        """One vector per text, in order; batches go out a few at a time."""
        if not texts:
            return []
        name = model or await self.model()
        gate = asyncio.Semaphore(_EMBED_CONCURRENCY)

        async def one_batch(batch: Sequence[str]) -> list[list[float]]:
            import openai

            async with gate:
                try:
                    result = await self._sdk.embeddings.create(
                        model=name, input=list(batch), encoding_format="float"
                    )
                except openai.OpenAIError as exc:
                    await self._raise_with_models(exc, name)
            ordered = sorted(result.data, key=lambda item: item.index)
            if len(ordered) != len(batch):
                raise LlmError(
                    f"the embedding server at {self.base_url} returned {len(ordered)} vectors "
                    f"for {len(batch)} texts"
                )
            return [item.embedding for item in ordered]

        batches = [texts[i : i + batch_size] for i in range(0, len(texts), batch_size)]
        results = await asyncio.gather(*(one_batch(b) for b in batches))
        return [vector for batch in results for vector in batch]

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
            messages=[m.to_api() for m in messages],
            temperature=self.settings.temperature if temperature is None else temperature,
            max_tokens=omit if max_tokens is None else max_tokens,
            tools=[t.to_api() for t in tools] if tools else omit,
            tool_choice=_tool_choice(tool_choice) if tools else omit,
        )

    async def _raise_with_models(self, exc: openai.OpenAIError, model: str) -> NoReturn:
        import openai

        from llmorch.llm import failures

        offered: list[str] | None = None
        if isinstance(exc, openai.APIStatusError) and failures.is_unknown_model(exc):
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
            retries=self.settings.max_retries,
            timeout_s=self.settings.timeout_s,
            offered_models=offered,
        ) from exc


@dataclass(frozen=True, slots=True)
class _ChatRequest:
    """The arguments both `complete` and `stream` send, typed as the SDK wants them."""

    model: str
    messages: list[ChatCompletionMessageParam]
    temperature: float
    max_tokens: int | Omit
    tools: list[ChatCompletionToolParam] | Omit
    tool_choice: ChatCompletionToolChoiceOptionParam | Omit


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
    return LlmError(
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
    )
