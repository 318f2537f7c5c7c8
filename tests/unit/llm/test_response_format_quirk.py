"""llama-cpp-python's server rejects OpenAI's json_schema response_format (500, naming the types
it takes) but constrains decoding to a schema given inside json_object: the client resends once."""

from __future__ import annotations

import pytest
from openai_script import ClientFactory, ScriptedServer, chat_body

from llmorch.errors import LlmError
from llmorch.llm.messages import UserMessage
from llmorch.llm.model import JsonSchemaFormat

SCHEMA = JsonSchemaFormat(name="Task", schema={"type": "object", "properties": {}})
LLAMA_CPP_REJECTION = {
    "error": {
        "message": "1 validation error: {'loc': ('body', 'response_format', 'type'), "
        "'msg': \"Input should be 'text' or 'json_object'\"}",
        "type": "internal_server_error",
    }
}
ASK = [UserMessage(content="hi")]


async def test_a_rejected_json_schema_is_resent_inside_json_object_and_remembered(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply(LLAMA_CPP_REJECTION, status=500)
    server.reply(chat_body("{}"))
    server.reply(chat_body("{}"))
    async with make_client(model="m", max_retries=0) as client:
        await client.complete(ASK, response_format=SCHEMA)
        await client.complete(ASK, response_format=SCHEMA)
    sent = [r["response_format"] for r in server.chat_requests]
    assert sent[0]["type"] == "json_schema"
    assert sent[1] == sent[2] == {"type": "json_object", "schema": SCHEMA.json_schema}


async def test_other_server_errors_with_a_response_format_are_not_resent(
    server: ScriptedServer, make_client: ClientFactory
) -> None:
    server.reply({"error": {"message": "model overloaded"}}, status=500)
    async with make_client(model="m", max_retries=0) as client:
        with pytest.raises(LlmError):
            await client.complete(ASK, response_format=SCHEMA)
    assert len(server.chat_requests) == 1
