"""The tool loop against a scripted server: recovery, bounds, concurrency, streaming, results."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from openai_script import ClientFactory, ScriptedServer, chat_body, chunk, tool_call

from llmorch.errors import LlmError
from llmorch.llm.loop import LoopEvent, ToolFinished, ToolLoop, ToolStarted
from llmorch.llm.messages import ToolMessage, UserMessage
from llmorch.tools.base import ToolRegistry, tool

QUESTION = [UserMessage(content="What do my notes say about tea?")]


@tool
async def search_knowledge_base(query: str, limit: int = 3) -> str:
    """Search the notes.

    Args:
        query: What to look for.
        limit: How many results.
    """
    return f"{limit} notes about {query}"


@tool
async def explode(reason: str) -> str:
    """Always fails."""
    raise RuntimeError(f"boom: {reason}")


def make_loop(make_client: ClientFactory, *, max_iterations: int = 6, **tools: Any) -> ToolLoop:
    registry = ToolRegistry([search_knowledge_base, explode, *tools.values()])
    return ToolLoop(make_client(model="m"), registry, max_iterations=max_iterations)


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in request["messages"] if m["role"] == "tool"]


async def test_a_plain_answer_ends_after_one_turn_with_usage_and_a_trace_id(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body("You like green tea.", usage=(20, 6)))
    result = await make_loop(make_client).run(QUESTION)
    assert result.answer == "You like green tea."
    assert result.finish_reason == "answer"
    assert result.iterations == 1
    assert result.tool_calls == []
    assert result.usage.total_tokens == 26
    assert re.fullmatch(r"[0-9a-f]{32}", result.trace_id)
    assert [m.role for m in result.messages] == ["user", "assistant"]
    assert server.chat_requests[0]["tools"][0]["function"]["name"] == "search_knowledge_base"


async def test_a_tool_call_is_executed_and_its_result_fed_back_to_the_model(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"query": "tea"})]))
    server.reply(chat_body("Your notes mention tea."))
    result = await make_loop(make_client).run(QUESTION)
    assert result.answer == "Your notes mention tea."
    assert result.iterations == 2
    assert tool_messages(server.chat_requests[1]) == [
        {"role": "tool", "tool_call_id": "call_1", "content": "3 notes about tea"}
    ]
    [record] = result.tool_calls
    assert (record.name, record.arguments, record.ok, record.iteration) == (
        "search_knowledge_base",
        {"query": "tea"},
        True,
        1,
    )
    assert record.duration_s >= 0
    assert result.usage.total_tokens == 30


async def test_several_tool_calls_in_one_turn_run_concurrently(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    both_running = asyncio.Barrier(2)

    @tool
    async def wait_for_peer(tag: str) -> str:
        """Finishes only while another call runs at the same time."""
        async with asyncio.timeout(2):
            await both_running.wait()
        return f"done {tag}"

    server.reply(
        chat_body(
            None,
            tool_calls=[
                tool_call("wait_for_peer", {"tag": "a"}, "c1"),
                tool_call("wait_for_peer", {"tag": "b"}, "c2"),
            ],
        )
    )
    server.reply(chat_body("both done"))
    result = await make_loop(make_client, peer=wait_for_peer).run(QUESTION)
    assert [r.ok for r in result.tool_calls] == [True, True]
    assert [m["content"] for m in tool_messages(server.chat_requests[1])] == ["done a", "done b"]


async def test_an_unknown_tool_goes_back_to_the_model_which_can_recover(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("web_search", {"q": "tea"})]))
    server.reply(chat_body("Sorry, I can only search your notes."))
    result = await make_loop(make_client).run(QUESTION)
    assert result.finish_reason == "answer"
    [message] = tool_messages(server.chat_requests[1])
    assert message["content"].startswith("error: unknown tool 'web_search'; available tools: ")
    assert result.tool_calls[0].ok is False


async def test_invalid_arguments_go_back_with_the_validation_details(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(
        chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"limit": "many"})])
    )
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"query": "tea"})]))
    server.reply(chat_body("Found it."))
    result = await make_loop(make_client).run(QUESTION)
    [error] = tool_messages(server.chat_requests[1])
    assert "invalid arguments for search_knowledge_base" in error["content"]
    assert "query: Field required" in error["content"]
    assert "limit: Input should be a valid integer" in error["content"]
    assert [r.ok for r in result.tool_calls] == [False, True]
    assert result.answer == "Found it."


async def test_a_tool_exception_goes_back_as_a_tool_message(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("explode", {"reason": "disk"})]))
    server.reply(chat_body("The tool failed."))
    result = await make_loop(make_client).run(QUESTION)
    [message] = tool_messages(server.chat_requests[1])
    assert message["content"] == "error: explode raised RuntimeError: boom: disk"
    assert result.tool_calls[0].error == "explode raised RuntimeError: boom: disk"


async def test_the_same_failing_call_repeated_is_cut_short(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    calls = 0

    @tool
    async def flaky(path: str) -> str:
        """Always fails, counting its calls."""
        nonlocal calls
        calls += 1
        raise FileNotFoundError(path)

    same = tool_call("flaky", {"path": "x.md"})
    for _ in range(3):
        server.reply(chat_body(None, tool_calls=[same]))
    server.reply(chat_body("I could not read x.md."))
    result = await make_loop(make_client, flaky=flaky).run(QUESTION)
    assert calls == 1, "a call that already failed is not run again"
    assert result.finish_reason == "repeated_failure"
    assert result.answer == "I could not read x.md."
    warning = tool_messages(server.chat_requests[2])[-1]["content"]
    assert warning.startswith(
        "error: this exact call already failed (flaky raised FileNotFoundError"
    )
    assert len(server.chat_requests) == 4
    assert "tools" not in server.chat_requests[-1], "the last turn offers no tools"
    # The record (shown as `✗ flaky: …` and in --json) carries the reason, not a second "error:".
    repeated = result.tool_calls[-1]
    assert repeated.error is not None
    assert repeated.error.startswith("this exact call already failed")


async def test_the_iteration_bound_ends_with_a_last_turn_without_tools(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    for n in range(2):
        server.reply(
            chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"query": f"q{n}"})])
        )
    server.reply(chat_body("Here is what I found."))
    result = await make_loop(make_client, max_iterations=2).run(QUESTION)
    assert result.finish_reason == "max_iterations"
    assert result.answer == "Here is what I found."
    assert result.iterations == 2
    assert len(result.tool_calls) == 2
    assert len(server.chat_requests) == 3
    assert "tools" not in server.chat_requests[-1]


async def test_a_forced_tool_choice_applies_to_the_first_turn_only(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"query": "tea"})]))
    server.reply(chat_body("ok"))
    await make_loop(make_client).run(QUESTION, tool_choice="search_knowledge_base")
    first, second = server.chat_requests
    assert first["tool_choice"] == {
        "type": "function",
        "function": {"name": "search_knowledge_base"},
    }
    assert second["tool_choice"] == "auto"


async def test_an_answer_cut_at_the_token_limit_says_so(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body("Tea is", finish_reason="length"))
    result = await make_loop(make_client).run(QUESTION)
    assert (result.answer, result.finish_reason) == ("Tea is", "length")


async def test_a_model_server_failure_raises_its_typed_error(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply({"error": {"message": "invalid key"}}, status=401)
    with pytest.raises(LlmError, match="refused the API key"):
        await make_loop(make_client).run(QUESTION)


async def test_streaming_sends_answer_text_live_and_reports_tool_events(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk({"role": "assistant", "tool_calls": [
                {"index": 0, "id": "c1", "type": "function",
                 "function": {"name": "search_knowledge_base", "arguments": '{"query": "tea"}'}}
            ]}),
            chunk({}, finish_reason="tool_calls"),
        ]
    )  # fmt: skip
    server.reply_stream(
        [chunk({"content": "Green "}), chunk({"content": "tea."}, finish_reason="stop")]
    )
    texts: list[str] = []
    events: list[LoopEvent] = []
    result = await make_loop(make_client).run(
        QUESTION, on_text=texts.append, on_event=events.append
    )
    assert texts == ["Green ", "tea."]
    assert result.answer == "Green tea."
    assert isinstance(events[0], ToolStarted) and events[0].arguments == {"query": "tea"}
    assert isinstance(events[1], ToolFinished) and events[1].record.ok
    assert all(r.get("stream") for r in server.chat_requests)


async def test_result_messages_hold_the_whole_conversation_in_order(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"query": "tea"})]))
    server.reply(chat_body("done"))
    result = await make_loop(make_client).run(QUESTION)
    assert [m.role for m in result.messages] == ["user", "assistant", "tool", "assistant"]
    tool_message = result.messages[2]
    assert isinstance(tool_message, ToolMessage)
    assert tool_message.name == "search_knowledge_base"
    assert json.loads(
        server.chat_requests[1]["messages"][1]["tool_calls"][0]["function"]["arguments"]
    ) == {"query": "tea"}


async def test_every_turns_reasoning_reaches_on_reasoning_whole_or_streamed(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    search = tool_call("search_knowledge_base", {"query": "tea"})
    server.reply(chat_body("<think>I should search.</think>", tool_calls=[search]))
    server.reply(chat_body("Green tea.", reasoning_content="The note says green."))
    whole: list[str] = []
    await make_loop(make_client).run(QUESTION, on_reasoning=whole.append)
    assert whole == ["I should search.", "The note says green."]

    server.reply_stream(
        [
            chunk({"reasoning_content": "Thinking "}),
            chunk({"reasoning_content": "hard."}),
            chunk({"content": "Green tea."}, finish_reason="stop"),
        ]
    )
    streamed: list[str] = []
    shown: list[str] = []
    await make_loop(make_client).run(QUESTION, on_text=shown.append, on_reasoning=streamed.append)
    assert streamed == ["Thinking ", "hard."]
    assert "".join(shown) == "Green tea."
