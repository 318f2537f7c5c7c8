"""Streaming: SSE chunks become text deltas, whole tool calls and usage at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from openai_script import ClientFactory, ScriptedServer, chat_body, chunk, tool_call

from llmorch.errors import LlmError
from llmorch.llm.messages import ToolCall, UserMessage
from llmorch.llm.stream import ReasoningDelta, StreamDone, StreamEvent, TextDelta

QUESTION = [UserMessage(content="hi")]


async def _collect(client_factory: ClientFactory) -> list[StreamEvent]:
    async with client_factory(model="m") as client:
        return [event async for event in client.stream(QUESTION)]


async def test_stream_yields_text_deltas_then_the_whole_turn_with_usage(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}),
            chunk({}, finish_reason="stop"),
            chunk(None, usage=(7, 2)),
        ]
    )
    events = await _collect(make_client)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hel", "lo"]
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.message.content == "Hello"
    assert done.completion.finish_reason == "stop"
    assert done.completion.usage is not None and done.completion.usage.total_tokens == 9
    assert server.chat_requests[0]["stream_options"] == {"include_usage": True}


async def test_tool_call_deltas_are_assembled_into_whole_calls(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "search_knowledge_base", "arguments": ""},
                        }
                    ],
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"query": '}}]}),
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "function": {"arguments": '"tea"}'}},
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "read_note", "arguments": '{"path"'},
                        },
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 1, "function": {"arguments": ': "a.md"}'}}]}),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    events = await _collect(make_client)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.message.tool_calls == [
        ToolCall(id="call_a", name="search_knowledge_base", arguments='{"query": "tea"}'),
        ToolCall(id="call_b", name="read_note", arguments='{"path": "a.md"}'),
    ]
    assert done.completion.finish_reason == "tool_calls"
    assert not [e for e in events if isinstance(e, TextDelta)]


async def test_think_block_split_across_chunks_is_streamed_as_reasoning_not_text(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk({"content": "<thi"}),
            chunk({"content": "nk>\nThe user greets"}),
            chunk({"content": " me.</th"}),
            chunk({"content": "ink>\n\nHi "}),
            chunk({"content": "there"}, finish_reason="stop"),
        ]
    )
    events = await _collect(make_client)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert text == "Hi there"
    assert "The user greets me." in reasoning
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.message.content == "Hi there"
    assert done.completion.message.reasoning == "The user greets me."


async def test_reasoning_content_deltas_stream_as_reasoning(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk({"reasoning_content": "Let me think."}),
            chunk({"content": "Four."}, finish_reason="stop"),
        ]
    )
    events = await _collect(make_client)
    assert ReasoningDelta("Let me think.") in events
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.message.reasoning == "Let me think."
    assert done.completion.message.content == "Four."


async def test_a_failing_stream_raises_the_mapped_error(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply({"error": {"message": "bad key"}}, status=401)
    with pytest.raises(LlmError, match="refused the API key"):
        await _collect(make_client)


async def test_a_connection_dropped_mid_stream_raises_a_typed_error(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m",'
        yield b'"choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}\n\n'
        raise httpx2.ReadError("connection reset by peer")

    server.chat_replies.append(
        httpx2.Response(200, content=body(), headers={"content-type": "text/event-stream"})
    )
    texts: list[str] = []
    with pytest.raises(LlmError, match="broke mid-answer"):
        async with make_client(model="m") as client:
            async for event in client.stream(QUESTION):
                if isinstance(event, TextDelta):
                    texts.append(event.text)
    assert texts == ["Hel"]


async def test_an_empty_stream_is_asked_again_whole_instead_of_read_as_an_empty_answer(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    # llama-cpp-python's answer to a streamed request with tools: 200, then only [DONE].
    server.reply_stream([])
    server.reply(
        chat_body(tool_calls=[tool_call("search", {"q": "tea"})], finish_reason="tool_calls")
    )
    events = await _collect(make_client)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert [c.name for c in done.completion.message.tool_calls] == ["search"]
    assert done.completion.finish_reason == "tool_calls"
    assert [r.get("stream") for r in server.chat_requests] == [True, None]


async def test_a_stream_dropped_before_its_first_chunk_is_asked_again_whole(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    # llama-cpp-python's other answer to a streamed tool call: it closes the connection.
    def drop(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")

    server.chat_replies.append(drop)
    server.reply(chat_body("Tea at 80C."))
    events = await _collect(make_client)
    assert TextDelta("Tea at 80C.") in events
    done = events[-1]
    assert isinstance(done, StreamDone) and done.completion.message.content == "Tea at 80C."
