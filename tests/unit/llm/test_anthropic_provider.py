"""The Anthropic provider, through the real `anthropic` SDK, against a local Messages API stand-in."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from anthropic_server import (
    MessagesServer,
    error,
    error_event,
    message,
    streamed,
    text,
    thinking,
    tool_use,
)
from typer.testing import CliRunner

from llmorch.cli.app import app
from llmorch.errors import LlmError, LlmUnavailableError, LlmUnreachableError
from llmorch.llm.loop import ToolLoop
from llmorch.llm.messages import SystemMessage, UserMessage
from llmorch.llm.providers.anthropic import AnthropicModel
from llmorch.llm.stream import ReasoningDelta, StreamDone, TextDelta
from llmorch.tools.base import ToolRegistry, tool

QUESTION = [SystemMessage(content="Answer from the notes."), UserMessage(content="Backups?")]


@tool
def search_notes(query: str) -> str:
    """Search the notes.

    Args:
        query: What to look for.
    """
    return f"restic runs nightly ({query})"


@pytest.fixture
def server() -> Iterator[MessagesServer]:
    stand_in = MessagesServer()
    yield stand_in
    stand_in.close()


def _model(server: MessagesServer, **options: object) -> AnthropicModel:
    values: dict[str, object] = {"api_key": "sk-ant-test", "max_retries": 0, **options}
    return AnthropicModel(base_url=server.base_url, model="claude-stand-in", **values)  # pyright: ignore[reportArgumentType]


async def test_a_tool_loop_runs_with_tool_use_and_tool_result_blocks(
    server: MessagesServer,
) -> None:
    server.reply(
        message(
            thinking("The user asks about backups; search."),
            tool_use("search_notes", {"query": "backup"}),
            stop_reason="tool_use",
        ),
        message(text("Restic runs nightly.")),
    )
    reasoning: list[str] = []
    async with _model(server) as model:
        result = await ToolLoop(model, ToolRegistry([search_notes])).run(
            QUESTION, on_reasoning=reasoning.append
        )
    assert result.answer == "Restic runs nightly."
    assert reasoning == ["The user asks about backups; search."]
    assert [c.name for c in result.tool_calls] == ["search_notes"]
    assert result.usage.total_tokens == 2 * (12 + 7)
    first, second = server.requests
    assert first["system"] == "Answer from the notes."
    assert first["tools"][0]["name"] == "search_notes"
    assert first["tools"][0]["input_schema"]["properties"]["query"]["type"] == "string"
    sent = server.headers[0]
    assert "sk-ant-test" in sent.get("x-api-key", sent.get("authorization", ""))
    assert "anthropic-version" in sent
    assistant, results = second["messages"][1], second["messages"][2]
    assert assistant["content"][0] == {
        "type": "tool_use",
        "id": "toolu_01",
        "name": "search_notes",
        "input": {"query": "backup"},
    }
    assert results["role"] == "user"
    assert results["content"][0]["type"] == "tool_result"
    assert results["content"][0]["tool_use_id"] == "toolu_01"
    assert "restic runs nightly" in results["content"][0]["content"]


async def test_a_streamed_answer_arrives_in_pieces_with_thinking_apart(
    server: MessagesServer,
) -> None:
    server.reply(streamed(thinking("Backups are in the notes."), text("Restic runs nightly.")))
    async with _model(server) as model:
        events = [event async for event in model.stream(QUESTION)]
    texts = [e.text for e in events if isinstance(e, TextDelta)]
    assert len(texts) > 1 and "".join(texts) == "Restic runs nightly."
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)) == (
        "Backups are in the notes."
    )
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.finish_reason == "stop"
    assert done.completion.provider == "anthropic"
    assert done.completion.usage is not None and done.completion.usage.completion_tokens == 15
    assert server.requests[0]["stream"] is True


async def test_a_streamed_tool_call_is_assembled_from_partial_json(server: MessagesServer) -> None:
    server.reply(
        streamed(tool_use("search_notes", {"query": "restic backups"}), stop_reason="tool_use"),
        streamed(text("Nightly.")),
    )
    shown: list[str] = []
    async with _model(server) as model:
        result = await ToolLoop(model, ToolRegistry([search_notes])).run(
            QUESTION, on_text=shown.append
        )
    assert result.tool_calls[0].arguments == {"query": "restic backups"}
    assert "".join(shown) == "Nightly."


async def test_an_overloaded_error_event_mid_stream_is_unavailable(server: MessagesServer) -> None:
    reply = streamed(text("Rest"))
    assert reply.events is not None
    reply.events[3:] = [error_event("overloaded_error", "Overloaded")]
    server.reply(reply)
    async with _model(server) as model:
        with pytest.raises(LlmUnavailableError, match="overloaded"):
            [event async for event in model.stream(QUESTION)]


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (error(401, "authentication_error", "invalid x-api-key"), LlmError, "refused the API key"),
        (
            error(
                429,
                "rate_limit_error",
                "Number of requests has exceeded your rate limit",
                **{"retry-after": "7"},
            ),
            LlmUnavailableError,
            "retry after 7s",
        ),
        (error(529, "overloaded_error", "Overloaded"), LlmUnavailableError, "overloaded"),
        (
            error(
                400, "invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum"
            ),
            LlmError,
            "too long for the context window",
        ),
        (error(500, "api_error", "Internal server error"), LlmUnavailableError, r"failed \(500\)"),
    ],
)
async def test_each_error_body_becomes_the_same_typed_error_as_openai(
    server: MessagesServer, reply: object, kind: type[LlmError], words: str
) -> None:
    server.reply(reply)  # pyright: ignore[reportArgumentType]
    async with _model(server) as model:
        with pytest.raises(kind, match=words) as caught:
            await model.complete(QUESTION)
    assert caught.value.exit_code == 5
    assert "sk-ant-test" not in str(caught.value)


async def test_a_rate_limit_is_retried_after_the_time_it_asks_for(server: MessagesServer) -> None:
    server.reply(
        error(429, "rate_limit_error", "slow down", **{"retry-after": "0"}), message(text("ok"))
    )
    async with _model(server, max_retries=1) as model:
        completion = await model.complete(QUESTION)
    assert completion.message.content == "ok"
    assert len(server.requests) == 2


async def test_a_refused_connection_is_unreachable_without_retries() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    model = AnthropicModel(
        base_url=f"http://127.0.0.1:{port}", model="claude-stand-in", api_key="k", max_retries=5
    )
    async with model:
        with pytest.raises(LlmUnreachableError) as caught:
            await model.complete(QUESTION)
    assert caught.value.exit_code == 4


@pytest.mark.parametrize(
    ("reply", "exit_code", "kind"),
    [
        (error(401, "authentication_error", "invalid x-api-key"), 5, "llm"),
        (error(529, "overloaded_error", "Overloaded"), 5, "llm"),
    ],
)
def test_ask_exits_with_the_error_kinds_code(
    server: MessagesServer, tmp_path: Path, reply: object, exit_code: int, kind: str
) -> None:
    server.reply(reply)  # pyright: ignore[reportArgumentType]
    config = tmp_path / "config.yaml"
    config.write_text(
        "llm:\n  model: claude\n"
        f"models:\n  claude:\n    provider: anthropic\n    base_url: {server.base_url}\n"
        "    model: claude-stand-in\n    api_key_env: TEST_KEY\n    max_retries: 0\n",
        encoding="utf-8",
    )
    result = CliRunner(env={"TEST_KEY": "sk-ant-test"}).invoke(
        app, ["--config", str(config), "ask", "--mode", "agent", "--json", "-q", "Backups?"]
    )
    assert result.exit_code == exit_code, result.output
    printed = json.loads(result.stdout)
    assert printed["exit_code"] == exit_code
    assert printed["kind"] == kind
    assert "sk-ant-test" not in result.output
