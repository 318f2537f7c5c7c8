"""Named models: a name (a profile under `models`, or a model on the default server) becomes a
ChatModel, with the fallback profiles behind it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from llmorch.config import LlmSettings, ModelProfile, Settings
from llmorch.errors import ConfigError
from llmorch.llm.model import ModelCapabilities

if TYPE_CHECKING:
    from llmorch.llm.model import ChatModel

DEFAULT_PROFILE = "default"
"""The `llm` section, as a profile: what answers when no profile is named."""


def default_profile(llm: LlmSettings, *, model: str | None = None) -> ModelProfile:
    return ModelProfile(
        provider="openai",
        base_url=llm.base_url,
        model=model or llm.model,
        api_key=llm.api_key,
        timeout_s=llm.timeout_s,
        max_retries=llm.max_retries,
    )


def resolve_profile(settings: Settings, name: str | None = None) -> tuple[str, ModelProfile]:
    """`name` (else llm.model) as a profile, or as a model on the default server."""
    chosen = name or settings.llm.model
    if chosen is not None and chosen in settings.models:
        return chosen, settings.models[chosen]
    return DEFAULT_PROFILE, default_profile(settings.llm, model=chosen)


def all_profiles(settings: Settings) -> list[tuple[str, ModelProfile]]:
    """The default profile (the llm section), then every named one (for `llmorch models`, /ready)."""
    model = settings.llm.model if settings.llm.model not in settings.models else None
    return [(DEFAULT_PROFILE, default_profile(settings.llm, model=model)), *settings.models.items()]


def chain(
    settings: Settings, name: str | None = None, fallback: Sequence[str] | None = None
) -> list[tuple[str, ModelProfile]]:
    """The profiles asked in order for `name`: it first, then its fallbacks."""
    first_name, first = resolve_profile(settings, name)
    found = [(first_name, first)]
    for other in settings.llm.fallback if fallback is None else fallback:
        if other not in settings.models:
            known = ", ".join(sorted(settings.models)) or "none defined"
            raise ConfigError(f"fallback names {other!r}, which is not a profile ({known})")
        if other != first_name:
            found.append((other, settings.models[other]))
    return found


def build_chat_model(
    settings: Settings,
    name: str | None = None,
    *,
    fallback: Sequence[str] | None = None,
    on_switch: Callable[[str], None] | None = None,
) -> ChatModel:
    """The model for `name`, and when a fallback list applies, a chain that moves down it."""
    models = [
        (n, build_profile(n, p, temperature=settings.llm.temperature))
        for n, p in chain(settings, name, fallback)
    ]
    if len(models) == 1:
        return models[0][1]
    from llmorch.llm.fallback import FallbackModel

    return FallbackModel(models, on_switch=on_switch)


def build_profile(name: str, profile: ModelProfile, *, temperature: float = 0.2) -> ChatModel:
    """One profile's model; the provider's SDK is imported only here, when it is used."""
    overrides = ModelCapabilities(
        tools=profile.tools, json_schema=profile.json_schema, context_length=profile.context
    )
    if profile.provider == "anthropic":
        from llmorch.llm.providers.anthropic import AnthropicModel

        return AnthropicModel(
            name=name,
            base_url=profile.base_url,
            model=profile.model or "",
            api_key=profile.resolved_key(),
            timeout_s=profile.timeout_s,
            max_retries=profile.max_retries,
            temperature=temperature,
            capabilities=overrides,
        )
    from llmorch.llm.providers.openai_compat import OpenAICompatModel

    return OpenAICompatModel(
        name=name,
        base_url=profile.base_url or "",
        model=profile.model,
        api_key=profile.resolved_key(),
        timeout_s=profile.timeout_s,
        max_retries=profile.max_retries,
        temperature=temperature,
        capabilities=overrides,
    )
