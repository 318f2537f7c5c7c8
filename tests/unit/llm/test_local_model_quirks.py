"""Each quirk of local models, from the shape real servers send, handled end to end or in units."""

from __future__ import annotations

import pytest
from openai_script import ClientFactory, ScriptedServer, chat_body, chunk, tool_call

from llmorch.llm.loop import ToolLoop
from llmorch.llm.messages import UserMessage
from llmorch.llm.providers.openai_compat import message_param
from llmorch.llm.quirks import (
    ThinkFilter,
    extract_text_tool_calls,
    parse_arguments,
    resolve_tool_name,
    split_think,
)
from llmorch.tools.base import ToolRegistry, tool

QUESTION = [UserMessage(content="What do my notes say about tea?")]
KNOWN = ["search_knowledge_base", "read_note"]


@tool
async def search_knowledge_base(query: str, limit: int = 3) -> str:
    """Search the notes."""
    return f"{limit} notes about {query}"


def make_loop(make_client: ClientFactory) -> ToolLoop:
    return ToolLoop(make_client(model="m"), ToolRegistry([search_knowledge_base]))


def tool_results(server: ScriptedServer, turn: int) -> list[str]:
    return [m["content"] for m in server.chat_requests[turn]["messages"] if m["role"] == "tool"]


# Qwen3 writes its reasoning into content as a <think> block before the answer.
async def test_qwen3_think_block_is_kept_out_of_the_answer_but_available(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(
        chat_body("<think>\nThe user asks about tea. I know this.\n</think>\n\nDrink green tea.")
    )
    result = await make_loop(make_client).run(QUESTION)
    assert result.answer == "Drink green tea."
    assert result.reasoning == "The user asks about tea. I know this."
    sent_back = [m for m in result.messages if m.role == "assistant"]
    assert message_param(sent_back[0])["content"] == "Drink green tea."


# Qwen3 chat templates open the block in the prompt, so only the closing tag is generated.
def test_a_lone_closing_think_tag_splits_reasoning_from_answer() -> None:
    assert split_think("Let me think about tea.\n</think>\n\nGreen tea.") == (
        "Green tea.",
        "Let me think about tea.",
    )


def test_an_unclosed_think_block_is_all_reasoning() -> None:
    assert split_think("<think>I was cut off while thi") == (None, "I was cut off while thi")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_think_filter_gives_the_same_split_whatever_the_chunking(size: int) -> None:
    text = "<think>weighing options</think>\n\nUse <b>bold</b> tea."
    shown: list[str] = []
    thought: list[str] = []
    splitter = ThinkFilter()
    for start in range(0, len(text), size):
        visible, reasoning = splitter.feed(text[start : start + size])
        shown.append(visible)
        thought.append(reasoning)
    visible, reasoning = splitter.flush()
    assert "".join(shown) + visible == "Use <b>bold</b> tea."
    assert "".join(thought) + reasoning == "weighing options"


# DeepSeek-R1 on llama.cpp/vLLM: reasoning arrives in a separate reasoning_content field.
async def test_reasoning_content_is_kept_as_reasoning_not_answer(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body("Green tea.", reasoning_content="Tea was in the 2024 notes."))
    result = await make_loop(make_client).run(QUESTION)
    assert (result.answer, result.reasoning) == ("Green tea.", "Tea was in the 2024 notes.")


# Small models end arguments early or use Python quoting; json-repair fixes these, then pydantic checks.
@pytest.mark.parametrize(
    "raw",
    [
        '{"query": "tea", "limit": 2',
        "{'query': 'tea', 'limit': 2}",
        '{"query": "tea", "limit": 2,}',
    ],
)
async def test_malformed_json_arguments_are_repaired_then_validated(
    raw: str, server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", raw)]))
    server.reply(chat_body("ok"))
    result = await make_loop(make_client).run(QUESTION)
    assert tool_results(server, 1) == ["2 notes about tea"]
    assert result.tool_calls[0].arguments == {"query": "tea", "limit": 2}


def test_double_encoded_arguments_are_decoded() -> None:
    assert parse_arguments('"{\\"query\\": \\"tea\\"}"') == {"query": "tea"}


async def test_arguments_that_cannot_be_repaired_go_back_as_an_error(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", "tea please")]))
    server.reply(chat_body("sorry"))
    result = await make_loop(make_client).run(QUESTION)
    [message] = tool_results(server, 1)
    assert message.startswith("error: invalid arguments: arguments must be a JSON object")
    assert result.tool_calls[0].ok is False


# Hermes/Qwen templates on servers without tool parsing leave the call in content.
async def test_tool_call_tag_in_content_is_executed(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(
        chat_body(
            'I will search.\n<tool_call>\n{"name": "search_knowledge_base", '
            '"arguments": {"query": "tea"}}\n</tool_call>'
        )
    )
    server.reply(chat_body("Found tea."))
    result = await make_loop(make_client).run(QUESTION)
    assert tool_results(server, 1) == ["3 notes about tea"]
    assert result.messages[1].content == "I will search."
    assert result.answer == "Found tea."


# SmolLM2 and Llama 3.2 without a tool template answer with the call as bare JSON.
async def test_bare_json_tool_call_in_content_is_executed(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(
        chat_body('{"name": "search_knowledge_base", "parameters": {"query": "tea", "limit": 1}}')
    )
    server.reply(chat_body("One note."))
    await make_loop(make_client).run(QUESTION)
    assert tool_results(server, 1) == ["1 notes about tea"]


def test_fenced_json_tool_call_is_recognised() -> None:
    text = '```json\n{"name": "read_note", "arguments": {"path": "a.md"}}\n```'
    rest, calls = extract_text_tool_calls(text, KNOWN)
    assert rest is None
    assert [(c.name, c.arguments) for c in calls] == [("read_note", '{"path": "a.md"}')]


async def test_a_json_answer_naming_no_tool_stays_the_answer(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body('{"name": "Darjeeling", "origin": "India"}'))
    result = await make_loop(make_client).run(QUESTION)
    assert result.answer == '{"name": "Darjeeling", "origin": "India"}'
    assert result.tool_calls == []


# llama-cpp-python (chatml-function-calling) also fills the legacy function_call, with a colon.
async def test_llama_cpp_python_function_call_with_a_colon_does_not_add_a_call(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    call = tool_call(
        "search_knowledge_base", {"query": "tea"}, "call__0_search_knowledge_base_cmpl-1"
    )
    server.reply(
        chat_body(
            None,
            tool_calls=[call],
            finish_reason="tool_calls",
            function_call={"name": "search_knowledge_base:", "arguments": '{"query": "tea"}'},
        )
    )
    server.reply(chat_body("ok"))
    result = await make_loop(make_client).run(QUESTION)
    assert [r.name for r in result.tool_calls] == ["search_knowledge_base"]
    assert tool_results(server, 1) == ["3 notes about tea"]


async def test_a_legacy_function_call_alone_is_run_with_its_name_cleaned(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(
        chat_body(
            None,
            finish_reason="function_call",
            function_call={"name": "search_knowledge_base:", "arguments": '{"query": "tea"}'},
        )
    )
    server.reply(chat_body("ok"))
    result = await make_loop(make_client).run(QUESTION)
    assert [(r.name, r.ok) for r in result.tool_calls] == [("search_knowledge_base", True)]


@pytest.mark.parametrize(
    "written",
    [
        "search_knowledge_base:",
        "`search_knowledge_base`",
        "functions.search_knowledge_base",
        "Search_Knowledge_Base()",
    ],
)
def test_tool_names_with_stray_punctuation_resolve_to_the_registered_tool(written: str) -> None:
    assert resolve_tool_name(written, KNOWN) == "search_knowledge_base"


def test_an_unknown_name_is_returned_cleaned_for_the_error_message() -> None:
    assert resolve_tool_name("web_search:", KNOWN) == "web_search"


async def test_streamed_text_tool_call_is_not_shown_as_answer_text(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk({"content": '{"name": "search_knowledge_base", '}),
            chunk({"content": '"arguments": {"query": "tea"}}'}, finish_reason="stop"),
        ]
    )
    server.reply_stream([chunk({"content": "Tea notes found."}, finish_reason="stop")])
    texts: list[str] = []
    result = await make_loop(make_client).run(QUESTION, on_text=texts.append)
    assert "".join(texts) == "Tea notes found."
    assert [r.name for r in result.tool_calls] == ["search_knowledge_base"]


async def test_streamed_think_block_is_not_shown_as_answer_text(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream(
        [
            chunk({"content": "<think>hmm"}),
            chunk({"content": "</think>\n\nGreen"}),
            chunk({"content": " tea."}, finish_reason="stop"),
        ]
    )
    texts: list[str] = []
    result = await make_loop(make_client).run(QUESTION, on_text=texts.append)
    assert "".join(texts) == "Green tea."
    assert result.reasoning == "hmm"


async def test_streamed_json_answer_that_is_not_a_call_is_still_shown(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply_stream([chunk({"content": '{"answer": 42}'}, finish_reason="stop")])
    texts: list[str] = []
    await make_loop(make_client).run(QUESTION, on_text=texts.append)
    assert texts == ['{"answer": 42}']
