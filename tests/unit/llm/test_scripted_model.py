"""The scripted model stands in for a real one: it satisfies ChatModel, replays, records and streams."""

from __future__ import annotations

import asyncio

import pytest

from llmorch.errors import LlmError
from llmorch.llm.messages import UserMessage
from llmorch.llm.model import ChatModel, JsonSchemaFormat
from llmorch.llm.stream import StreamDone, TextDelta
from llmorch.llm.testing import ModelCall, ScriptedModel, tool_call


def test_scripted_model_is_a_chat_model() -> None:
    assert isinstance(ScriptedModel(), ChatModel)


async def test_replies_come_in_order_and_every_call_is_recorded() -> None:
    model = ScriptedModel(["one", tool_call("search", query="tea")])
    fmt = JsonSchemaFormat(schema={"type": "object"})
    first = await model.complete([UserMessage(content="hi")], response_format=fmt)
    second = await model.complete([UserMessage(content="again")])
    assert first.message.content == "one"
    assert second.message.tool_calls[0].name == "search"
    assert second.message.tool_calls[0].arguments == '{"query": "tea"}'
    assert [c.response_format for c in model.calls] == [fmt, None]
    assert model.calls[1].last_user_text() == "again"


async def test_running_out_of_replies_is_a_model_error() -> None:
    with pytest.raises(LlmError, match="no reply left"):
        await ScriptedModel([]).complete([UserMessage(content="hi")])


async def test_a_scripted_error_is_raised_as_the_calls_failure() -> None:
    model = ScriptedModel([LlmError("server said 400")])
    with pytest.raises(LlmError, match="400"):
        await model.complete([UserMessage(content="hi")])


async def test_stream_sends_the_text_as_deltas_then_the_whole_turn() -> None:
    model = ScriptedModel(lambda call: call.last_user_text().upper(), chunk_chars=3)
    events = [e async for e in model.stream([UserMessage(content="hello there")])]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert deltas == ["HEL", "LO ", "THE", "RE"]
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.completion.message.content == "HELLO THERE"


async def test_delay_lets_calls_overlap_and_the_peak_is_counted() -> None:
    async def echo(call: ModelCall) -> str:
        return call.last_user_text()

    model = ScriptedModel(echo, delay_s=0.05)
    await asyncio.gather(*(model.complete([UserMessage(content=str(i))]) for i in range(3)))
    assert model.max_in_flight == 3
    assert model.in_flight == 0
