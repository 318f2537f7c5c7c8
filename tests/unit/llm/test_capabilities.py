"""Capabilities come from what the server tells (llama.cpp /props, vLLM's model list), under overrides."""

from __future__ import annotations

from typing import Any

import httpx2

from llmorch.llm.model import ModelCapabilities
from llmorch.llm.providers.openai_compat import OpenAICompatModel

LLAMA_CPP_PROPS = {
    "default_generation_settings": {"n_ctx": 8192, "params": {}},
    "total_slots": 1,
    "chat_template_caps": {"supports_tools": True},
}


def _model(routes: dict[str, Any], **options: Any) -> tuple[OpenAICompatModel, list[str]]:
    asked: list[str] = []

    def handle(request: httpx2.Request) -> httpx2.Response:
        asked.append(request.url.path)
        body = routes.get(request.url.path)
        return (
            httpx2.Response(404, json={"error": "no"})
            if body is None
            else httpx2.Response(200, json=body)
        )

    client = httpx2.AsyncClient(transport=httpx2.MockTransport(handle))
    model = OpenAICompatModel(
        base_url="http://box.test/v1", max_retries=0, http_client=client, **options
    )
    return model, asked


async def test_llama_cpp_props_give_context_tools_and_enforced_schemas() -> None:
    model, asked = _model({"/props": LLAMA_CPP_PROPS})
    caps = await model.capabilities()
    assert caps == ModelCapabilities(tools=True, json_schema=True, context_length=8192)
    await model.capabilities()
    assert asked == ["/props"], "asked once, then cached"


async def test_vllm_model_list_gives_the_context_length() -> None:
    models = {"object": "list", "data": [{"id": "qwen", "max_model_len": 32768}]}
    model, _ = _model({"/v1/models": models})
    caps = await model.capabilities()
    assert caps.context_length == 32768
    assert caps.tools is None and caps.json_schema is None


async def test_a_server_that_tells_nothing_leaves_capabilities_unknown() -> None:
    model, _ = _model({"/v1/models": {"object": "list", "data": [{"id": "m"}]}})
    assert await model.capabilities() == ModelCapabilities()


async def test_profile_overrides_win_over_what_the_server_tells() -> None:
    overrides = ModelCapabilities(tools=False, context_length=4096)
    model, _ = _model({"/props": LLAMA_CPP_PROPS}, capabilities=overrides)
    caps = await model.capabilities()
    assert caps == ModelCapabilities(tools=False, json_schema=True, context_length=4096)
