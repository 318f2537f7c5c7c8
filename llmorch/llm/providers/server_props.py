"""Capabilities an OpenAI-compatible server tells about itself, read from where each kind says it.

llama.cpp's server answers `/props` (context size, whether its chat template takes tools) and
enforces JSON Schemas with a grammar; vLLM puts `max_model_len` in its model list. Servers that
tell nothing leave each capability None, for the profile's overrides to fill.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from llmorch.llm.model import ModelCapabilities
from llmorch.logging import logger

if TYPE_CHECKING:
    from openai import AsyncOpenAI

_PROBE_TIMEOUT_S = 3.0


async def probe_capabilities(sdk: AsyncOpenAI, base_url: str) -> ModelCapabilities:
    """Ask once, briefly and without retries; a server that does not answer tells nothing."""
    props = await _get_json(sdk, _server_root(base_url) + "/props")
    if props is not None:
        return _from_llama_cpp_props(props)
    models = await _get_json(sdk, base_url + "/models")
    return ModelCapabilities(context_length=_context_from_model_list(models))


def _server_root(base_url: str) -> str:
    root = base_url.rstrip("/")
    return root.removesuffix("/v1")


async def _get_json(sdk: AsyncOpenAI, url: str) -> dict[str, Any] | None:
    import openai

    try:
        body: object = await sdk.get(
            url, cast_to=object, options={"max_retries": 0, "timeout": _PROBE_TIMEOUT_S}
        )
    except openai.OpenAIError as exc:
        logger.debug("{} tells no capabilities: {}", url, exc)
        return None
    return cast("dict[str, Any]", body) if isinstance(body, dict) else None


def _from_llama_cpp_props(props: dict[str, Any]) -> ModelCapabilities:
    n_ctx = _walk(props, "default_generation_settings", "n_ctx")
    tools = _walk(props, "chat_template_caps", "supports_tools")
    return ModelCapabilities(
        tools=tools if isinstance(tools, bool) else None,
        json_schema=True,  # llama.cpp turns every response_format schema into a grammar
        context_length=_positive(n_ctx),
    )


def _context_from_model_list(models: dict[str, Any] | None) -> int | None:
    entries = _walk(models, "data")
    if not isinstance(entries, list) or not entries:
        return None
    first: object = cast("list[object]", entries)[0]
    return _positive(_walk(first, "max_model_len")) or _positive(
        _walk(first, "meta", "n_ctx_train")
    )


def _walk(node: object, *keys: str) -> object:
    """The value under `keys` in nested JSON objects, or None where the shape differs."""
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = cast("dict[str, object]", node).get(key)
    return node


def _positive(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None
