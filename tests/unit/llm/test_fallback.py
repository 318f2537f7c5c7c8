"""Fallback: the next profile answers when a server is down or failing, never on a client error."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
import pytest
from openai_script import ScriptedServer, chat_body, chunk

from llmorch.errors import LlmError, LlmUnavailableError
from llmorch.llm.fallback import FallbackModel
from llmorch.llm.loop import ToolLoop
from llmorch.llm.messages import Completion, Message, ToolDefinition, UserMessage
from llmorch.llm.model import ChatModel, JsonSchemaFormat, ModelCapabilities
from llmorch.llm.providers.openai_compat import OpenAICompatModel
from llmorch.llm.stream import StreamDone, StreamEvent, TextDelta
from llmorch.tools.base import ToolRegistry, tool

QUESTION = [UserMessage(content="Where are the backups?")]


def _on(server: ScriptedServer, **options: Any) -> OpenAICompatModel:
    client = httpx2.AsyncClient(transport=httpx2.MockTransport(server.handle))
    values: dict[str, Any] = {"model": "m", "max_retries": 0, **options}
    return OpenAICompatModel(base_url="http://box.test/v1", http_client=client, **values)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def home() -> ScriptedServer:
    return ScriptedServer()


@pytest.fixture
def cloud() -> ScriptedServer:
    return ScriptedServer()


def _chain(*models: tuple[str, ChatModel]) -> tuple[FallbackModel, list[str]]:
    notes: list[str] = []
    return FallbackModel(models, on_switch=notes.append), notes


async def test_a_failing_server_hands_the_question_to_the_next_profile(
    home: ScriptedServer, cloud: ScriptedServer
) -> None:
    home.reply({"error": {"message": "model is loading"}}, status=503)
    cloud.reply(chat_body("In restic."))
    chain, notes = _chain(("home", _on(home)), ("cloud", _on(cloud)))
    completion = await chain.complete(QUESTION)
    assert completion.message.content == "In restic."
    assert chain.answered == "cloud"
    assert notes and notes[0].startswith("home failed after") and "trying cloud" in notes[0]
    assert "503" in notes[0]


async def test_a_refused_connection_moves_on_without_retrying(cloud: ScriptedServer) -> None:
    dead = OpenAICompatModel(
        base_url=f"http://127.0.0.1:{_dead_port()}/v1", model="m", max_retries=5
    )
    cloud.reply(chat_body("In restic."))
    chain, notes = _chain(("home", dead), ("cloud", _on(cloud)))
    completion = await chain.complete(QUESTION)
    assert completion.message.content == "In restic."
    assert "cannot reach the LLM" in notes[0]
    await chain.aclose()


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (400, "invalid request: temperature must be a number"),
        (401, "invalid api key"),
        (400, "this model's maximum context length is 4096 tokens"),
    ],
)
async def test_a_client_error_stops_the_chain_and_says_why(
    home: ScriptedServer, cloud: ScriptedServer, status: int, said: str
) -> None:
    home.reply({"error": {"message": said}}, status=status)
    chain, notes = _chain(("home", _on(home)), ("cloud", _on(cloud)))
    with pytest.raises(LlmError) as caught:
        await chain.complete(QUESTION)
    assert not isinstance(caught.value, LlmUnavailableError)
    assert "not passed to cloud: a client error would fail the same way there" in str(caught.value)
    assert cloud.chat_requests == [] and notes == []


async def test_when_every_profile_fails_the_error_tells_each_story(
    home: ScriptedServer, cloud: ScriptedServer
) -> None:
    home.reply({"error": {"message": "overloaded"}}, status=502)
    cloud.reply({"error": {"message": "slow down"}}, status=429)
    chain, _ = _chain(("home", _on(home)), ("cloud", _on(cloud)))
    with pytest.raises(LlmUnavailableError) as caught:
        await chain.complete(QUESTION)
    assert str(caught.value).startswith("cloud: the LLM at http://box.test/v1 is rate limiting")
    assert "(after home: the LLM server at http://box.test/v1 failed (502)" in str(caught.value)


async def test_a_stream_switches_before_its_first_token(
    home: ScriptedServer, cloud: ScriptedServer
) -> None:
    home.reply({"error": {"message": "boom"}}, status=500)
    cloud.reply_stream(
        [
            chunk({"role": "assistant", "content": "In "}),
            chunk({"content": "restic."}, finish_reason="stop"),
        ]
    )
    chain, notes = _chain(("home", _on(home)), ("cloud", _on(cloud)))
    events = [event async for event in chain.stream(QUESTION)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "In restic."
    assert isinstance(events[-1], StreamDone)
    assert chain.answered == "cloud" and len(notes) == 1


class _BreaksMidAnswer:
    """A model whose server dies after the first words (what a crashed llama.cpp looks like)."""

    provider = "openai"
    base_url = "http://box.test/v1"

    async def model(self) -> str:
        return "m"

    async def list_models(self) -> list[str]:
        return ["m"]

    async def capabilities(self) -> ModelCapabilities:
        return ModelCapabilities()

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
        raise AssertionError("only streamed here")

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        tools: Sequence[ToolDefinition] = (),
        tool_choice: str = "auto",
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamEvent]:
        yield TextDelta("In ")
        raise LlmUnavailableError("the connection to the LLM broke mid-answer")

    async def aclose(self) -> None:
        return None


async def test_a_stream_that_breaks_after_its_first_token_does_not_switch(
    cloud: ScriptedServer,
) -> None:
    chain, notes = _chain(("home", _BreaksMidAnswer()), ("cloud", _on(cloud)))
    shown: list[StreamEvent] = []
    with pytest.raises(LlmUnavailableError, match="mid-answer"):
        async for event in chain.stream(QUESTION):
            shown.append(event)
    assert shown == [TextDelta("In ")]
    assert cloud.requests == [] and notes == []


@tool
def search_notes(query: str) -> str:
    """Search the notes.

    Args:
        query: What to look for.
    """
    return f"restic, nightly ({query})"


async def test_a_profile_without_native_tools_gets_the_text_tool_protocol(
    home: ScriptedServer,
) -> None:
    home.reply(
        chat_body(
            '<tool_call>{"name": "search_notes", "arguments": {"query": "backup"}}</tool_call>'
        )
    )
    home.reply(chat_body("Restic, nightly."))
    model = _on(home, capabilities=ModelCapabilities(tools=False))
    result = await ToolLoop(model, ToolRegistry([search_notes])).run(QUESTION)
    assert result.answer == "Restic, nightly."
    assert [c.arguments for c in result.tool_calls] == [{"query": "backup"}]
    first, second = home.chat_requests
    assert "tools" not in first and "tool_choice" not in first
    assert "<tool_call>" in first["messages"][0]["content"]
    assert "search_notes" in first["messages"][0]["content"]
    roles = [m["role"] for m in second["messages"]]
    assert "tool" not in roles
    assert second["messages"][-1]["content"].startswith("Result of search_notes:")
    assert json.loads(
        second["messages"][-2]["content"].split("<tool_call>")[1].split("</tool_call>")[0]
    )["arguments"] == {"query": "backup"}
