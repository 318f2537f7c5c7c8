"""The client against a scripted OpenAI-compatible server: requests, answers, failures."""

from __future__ import annotations

import socket

import httpx2
import pytest
from openai_script import ClientFactory, ScriptedServer, chat_body, tool_call

from llmorch.config import LlmSettings
from llmorch.errors import LlmError, LlmUnreachableError
from llmorch.llm.client import PLACEHOLDER_API_KEY, LlmClient
from llmorch.llm.messages import (
    AssistantMessage,
    SystemMessage,
    ToolCall,
    ToolDefinition,
    ToolMessage,
    UserMessage,
)

QUESTION = [SystemMessage(content="be brief"), UserMessage(content="hi")]
SEARCH = ToolDefinition(
    name="search_knowledge_base",
    description="Search notes.",
    parameters={"type": "object", "properties": {"query": {"type": "string"}}},
)


async def test_complete_returns_text_usage_and_finish_reason(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body("Hello there.", usage=(12, 3)))
    async with make_client(model="m1") as client:
        done = await client.complete(QUESTION)
    assert done.message.content == "Hello there."
    assert done.finish_reason == "stop"
    assert done.usage is not None and done.usage.total_tokens == 15
    sent = server.chat_requests[0]
    assert sent["model"] == "m1"
    assert sent["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
    ]
    assert "tools" not in sent


async def test_unset_model_resolves_to_the_first_listed_model_once(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.model_ids = ["first-model", "second-model"]
    server.reply(chat_body("a"))
    server.reply(chat_body("b"))
    async with make_client() as client:
        await client.complete(QUESTION)
        await client.complete(QUESTION)
    assert [r["model"] for r in server.chat_requests] == ["first-model", "first-model"]
    assert sum(r.url.path.endswith("/models") for r in server.requests) == 1


async def test_an_unset_model_is_remembered_so_the_next_run_does_not_list_models(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.model_ids = ["first-model"]
    server.reply(chat_body("a"))
    server.reply(chat_body("b"))
    async with make_client() as client:
        await client.complete(QUESTION)
    async with make_client() as next_run:
        await next_run.complete(QUESTION)
    assert [r["model"] for r in server.chat_requests] == ["first-model", "first-model"]
    assert sum(r.url.path.endswith("/models") for r in server.requests) == 1


async def test_a_remembered_model_the_server_refuses_is_listed_again_on_the_next_run(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.model_ids = ["old-model"]
    server.reply(chat_body("a"))
    async with make_client() as client:
        await client.complete(QUESTION)
    server.model_ids = ["new-model"]
    server.reply({"error": {"message": 'model "old-model" not found'}}, status=404)
    server.reply(chat_body("b"))
    async with make_client() as swapped:
        with pytest.raises(LlmError, match="the server offers: new-model"):
            await swapped.complete(QUESTION)
    async with make_client() as next_run:
        await next_run.complete(QUESTION)
    assert [r["model"] for r in server.chat_requests] == ["old-model", "old-model", "new-model"]


async def test_missing_api_key_sends_a_placeholder_and_a_set_key_is_sent(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body("a"))
    server.reply(chat_body("b"))
    async with make_client(model="m") as client:
        await client.complete(QUESTION)
    async with make_client(model="m", api_key="sk-real-key-123") as client:
        await client.complete(QUESTION)
    auth = [r.headers["authorization"] for r in server.requests]
    assert auth == [f"Bearer {PLACEHOLDER_API_KEY}", "Bearer sk-real-key-123"]


async def test_tools_are_sent_as_functions_and_a_tool_name_forces_that_tool(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body(None, tool_calls=[tool_call("search_knowledge_base", {"query": "x"})]))
    async with make_client(model="m") as client:
        done = await client.complete(QUESTION, tools=[SEARCH], tool_choice="search_knowledge_base")
    sent = server.chat_requests[0]
    assert sent["tools"][0]["function"]["name"] == "search_knowledge_base"
    assert sent["tool_choice"] == {
        "type": "function",
        "function": {"name": "search_knowledge_base"},
    }
    assert done.message.tool_calls == [
        ToolCall(id="call_1", name="search_knowledge_base", arguments='{"query": "x"}')
    ]


async def test_history_with_tool_calls_goes_out_in_openai_shape_with_string_content(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(chat_body("done"))
    history = [
        *QUESTION,
        AssistantMessage(
            tool_calls=[ToolCall(id="c1", name="read_note", arguments='{"path": "a.md"}')],
            reasoning="private thoughts",
        ),
        ToolMessage(tool_call_id="c1", name="read_note", content="note text"),
    ]
    async with make_client(model="m") as client:
        await client.complete(history)
    assistant, tool = server.chat_requests[0]["messages"][2:]
    assert assistant == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "c1",
                "type": "function",
                "function": {"name": "read_note", "arguments": '{"path": "a.md"}'},
            }
        ],
    }
    assert tool == {"role": "tool", "tool_call_id": "c1", "content": "note text"}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_server_says_which_url_and_what_to_start() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    async with LlmClient(base_url=url, model="m", max_retries=0) as client:
        with pytest.raises(LlmUnreachableError) as caught:
            await client.complete(QUESTION)
    assert str(caught.value).startswith(
        f"cannot reach the LLM at {url} — is llama.cpp/Ollama running?"
    )


async def test_connect_errors_from_the_transport_map_to_unreachable(
    make_client: ClientFactory, server: ScriptedServer
) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    server.chat_replies.append(refuse)
    async with make_client(model="m") as client:
        with pytest.raises(LlmUnreachableError):
            await client.complete(QUESTION)


async def test_read_timeout_names_the_limit_and_how_to_raise_it(
    make_client: ClientFactory, server: ScriptedServer
) -> None:
    def slow(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    server.chat_replies.append(slow)
    async with make_client(model="m", timeout_s=7) as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    assert not isinstance(caught.value, LlmUnreachableError)
    assert "did not answer within 7s" in str(caught.value)
    assert "llm.timeout_s" in str(caught.value)


@pytest.mark.parametrize("status", [401, 403])
async def test_rejected_key_points_at_the_api_key_setting(
    status: int, server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply({"error": {"message": "Incorrect API key provided"}}, status=status)
    async with make_client(model="m") as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    message = str(caught.value)
    assert f"refused the API key ({status})" in message
    assert "Incorrect API key provided" in message
    assert "LLMORCH_LLM__API_KEY" in message


async def test_unknown_model_lists_the_models_the_server_offers(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.model_ids = ["qwen3:4b", "llama3.2:3b"]
    server.reply(
        {"error": {"message": 'model "qwen9" not found, try pulling it first'}}, status=404
    )
    async with make_client(model="qwen9") as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    assert "model 'qwen9' is not available" in str(caught.value)
    assert "the server offers: qwen3:4b, llama3.2:3b" in str(caught.value)


async def test_context_overflow_says_the_conversation_is_too_long(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(
        {
            "error": {
                "message": "Requested tokens (9000) exceed context window of 2048",
                "code": 400,
            }
        },
        status=400,
    )
    async with make_client(model="m") as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    assert "too long for the context window of 'm': " in str(caught.value)
    assert "exceed context window of 2048" in str(caught.value)


async def test_rate_limit_is_retried_honouring_retry_after(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply({"error": {"message": "slow down"}}, status=429, **{"retry-after-ms": "5"})
    server.reply(chat_body("finally"))
    async with make_client(model="m", max_retries=2) as client:
        done = await client.complete(QUESTION)
    assert done.message.content == "finally"
    assert len(server.chat_requests) == 2


async def test_server_errors_that_persist_fail_after_the_configured_retries(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    for _ in range(3):
        server.reply(
            {"error": {"message": "model crashed"}}, status=503, **{"retry-after": "0.001"}
        )
    async with make_client(model="m", max_retries=2) as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    assert len(server.chat_requests) == 3
    assert "failed (503) after 2 retries: model crashed" in str(caught.value)


async def test_persistent_rate_limit_says_so(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply({"error": {"message": "quota"}}, status=429, **{"retry-after-ms": "1"})
    server.reply({"error": {"message": "quota"}}, status=429, **{"retry-after-ms": "1"})
    async with make_client(model="m", max_retries=1) as client:
        with pytest.raises(LlmError, match=r"rate limiting requests \(429\) after 1 retries"):
            await client.complete(QUESTION)


async def test_server_listing_no_models_asks_for_llm_model(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.model_ids = []
    async with make_client() as client:
        with pytest.raises(LlmError, match="lists no models"):
            await client.complete(QUESTION)


async def test_a_page_that_is_not_an_api_answer_is_an_llm_error_naming_base_url(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    # What a base_url pointing at a web UI (or missing /v1 behind a proxy) gets back.
    page = "<!doctype html><title>Open WebUI</title>"
    server.chat_replies.append(httpx2.Response(200, text=page))
    async with make_client(model="m") as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    message = str(caught.value)
    assert "did not answer like an OpenAI-compatible API" in message
    assert "Open WebUI" in message
    assert "llm.base_url" in message


async def test_a_proxy_error_page_is_reported_by_its_words_not_its_markup(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
    server.chat_replies.append(
        httpx2.Response(502, text=page, headers={"content-type": "text/html"})
    )
    async with make_client(model="m") as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    message = str(caught.value)
    assert message.endswith("failed (502): 502 Bad Gateway")
    assert "<" not in message


PYTHON_501_PAGE = """<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: 501</p>
        <p>Message: Unsupported method ('POST').</p>
    </body>
</html>
"""
"""What a server that is not an LLM API (Python's http.server) answers a POST with."""


async def test_a_not_implemented_answer_is_not_retried_and_said_once(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    for _ in range(3):
        server.chat_replies.append(
            httpx2.Response(501, text=PYTHON_501_PAGE, headers={"content-type": "text/html"})
        )
    async with make_client(model="m", max_retries=2) as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    assert len(server.chat_requests) == 1
    message = str(caught.value)
    assert message.count("Error response") == 1
    assert "does not implement this request (501): Error response Error code: 501" in message


async def test_a_server_that_drops_the_connection_is_not_called_unreachable(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    def drop(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.RemoteProtocolError("Server disconnected without sending a response.")

    server.chat_replies.append(drop)
    async with make_client(model="m") as client:
        with pytest.raises(LlmError) as caught:
            await client.complete(QUESTION)
    assert not isinstance(caught.value, LlmUnreachableError)
    assert "closed the connection without answering" in str(caught.value)


async def test_a_web_page_instead_of_a_model_list_is_an_llm_error_naming_base_url() -> None:
    page = httpx2.Response(200, text="<!doctype html><title>Router login</title>")
    transport = httpx2.MockTransport(lambda request: page)
    settings = LlmSettings(base_url="http://router.test/v1", max_retries=0)
    async with LlmClient.from_settings(
        settings, http_client=httpx2.AsyncClient(transport=transport)
    ) as client:
        with pytest.raises(LlmError, match="did not answer like an OpenAI-compatible API"):
            await client.model()
