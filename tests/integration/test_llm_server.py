"""The client and the tool loop against a real llama.cpp server running SmolLM2-135M.

The model is tiny, so these check behaviour (answers arrive, tools run, the loop ends), not wisdom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from llmorch.llm.client import LlmClient
from llmorch.llm.loop import ToolLoop
from llmorch.llm.messages import SystemMessage, ToolMessage, UserMessage
from llmorch.llm.stream import StreamDone, TextDelta
from llmorch.retrieval.hits import SearchHit, SearchRequest
from llmorch.tools.base import ToolRegistry
from llmorch.tools.knowledge import knowledge_tool

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

QUESTION = [
    SystemMessage(content="You are a helpful assistant. Answer briefly."),
    UserMessage(content="What is the capital of France?"),
]
TEA_NOTE = SearchHit(
    path="drinks/tea.md",
    title="Tea",
    heading="Brewing",
    snippet="Green tea at 80C",
    text="Brew green tea at 80C for two minutes.",
    score=1.0,
)


class OneNoteIndex:
    """Answers every search with the same note, and remembers what was asked."""

    def __init__(self) -> None:
        self.requests: list[SearchRequest] = []

    async def search(self, request: SearchRequest) -> list[SearchHit]:
        self.requests.append(request)
        return [TEA_NOTE]


async def test_plain_completion_returns_text_and_usage(llama_server: LlamaServer) -> None:
    async with LlmClient.from_settings(llama_server.settings()) as client:
        done = await client.complete(QUESTION, max_tokens=24)
    assert done.message.content
    assert done.usage is not None and done.usage.completion_tokens > 0
    assert done.finish_reason in ("stop", "length")


async def test_unset_model_is_resolved_from_the_server(llama_server: LlamaServer) -> None:
    async with LlmClient.from_settings(llama_server.settings(model=None)) as client:
        assert await client.model() == llama_server.model


async def test_streaming_yields_deltas_that_add_up_to_the_answer(llama_server: LlamaServer) -> None:
    async with LlmClient.from_settings(llama_server.settings()) as client:
        events = [e async for e in client.stream(QUESTION, max_tokens=24)]
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert len(deltas) > 1, "a streamed answer arrives in pieces"
    assert done.completion.message.content == "".join(deltas).strip()


async def test_forced_tool_call_runs_the_real_tool_and_feeds_its_result_back(
    llama_server: LlamaServer,
) -> None:
    index = OneNoteIndex()
    loop = ToolLoop(
        LlmClient.from_settings(llama_server.settings()),
        ToolRegistry([knowledge_tool(index)]),
        max_iterations=2,
        max_tokens=96,
    )
    result = await loop.run(
        [UserMessage(content="Search my notes for how to brew tea.")],
        tool_choice="search_knowledge_base",
    )
    first = result.tool_calls[0]
    assert first.name == "search_knowledge_base"
    assert first.ok, first.error
    assert index.requests, "the search ran"
    results = [m for m in result.messages if isinstance(m, ToolMessage)]
    assert "drinks/tea.md#Brewing" in results[0].content
    assert result.finish_reason in ("answer", "length", "max_iterations", "repeated_failure")


async def test_auto_tool_choice_ends_within_the_iteration_bound(llama_server: LlamaServer) -> None:
    loop = ToolLoop(
        LlmClient.from_settings(llama_server.settings()),
        ToolRegistry([knowledge_tool(OneNoteIndex())]),
        max_iterations=2,
        max_tokens=64,
    )
    result = await loop.run([UserMessage(content="How do I brew tea? Check my notes.")])
    assert result.iterations <= 2
    turns = [m for m in result.messages if m.role == "assistant"]
    assert len(turns) <= 3, "at most the bound plus one final answer turn"
    assert len(result.trace_id) == 32


async def test_a_streamed_tool_call_is_not_lost(llama_server: LlamaServer) -> None:
    # llama-cpp-python cannot stream a turn in which the model calls a tool: it sends an empty
    # stream or drops the connection, which once read as an empty answer or "unreachable". The
    # whole-turn retry may meet the connection the server just dropped: the default retries apply.
    index = OneNoteIndex()
    loop = ToolLoop(
        LlmClient.from_settings(llama_server.settings(max_retries=2)),
        ToolRegistry([knowledge_tool(index)]),
        max_iterations=1,
        max_tokens=64,
    )
    shown: list[str] = []
    result = await loop.run(
        [
            SystemMessage(
                content="You help the user with their notes. Call the search_knowledge_base tool."
            ),
            UserMessage(content="Which NAS do we back up the vault to?"),
        ],
        on_text=shown.append,
    )
    assert result.tool_calls, "the model's call survived streaming"
    assert index.requests, "and the search ran"
