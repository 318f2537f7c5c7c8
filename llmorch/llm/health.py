"""Is each profile's server answering, how fast, with which models and capabilities?

One check for `llmorch models` and the server's /ready: every profile at once, each bounded by a
short timeout and no retries, so one dead host costs at most that timeout, not a retry ladder.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from llmorch.config import ModelProfile, Settings
from llmorch.errors import LlmorchError
from llmorch.llm.model import ChatModel, ModelCapabilities
from llmorch.llm.profiles import all_profiles, build_profile, chain

CHECK_TIMEOUT_S = 0.8


@dataclass(frozen=True, slots=True)
class ProfileHealth:
    """One profile's answer to "are you there?"; `reason` says why not when it is not."""

    name: str
    provider: str
    base_url: str
    model: str | None
    reachable: bool
    reason: str | None = None
    latency_ms: float | None = None
    models: list[str] = field(default_factory=list[str])
    capabilities: ModelCapabilities = field(default_factory=ModelCapabilities)


async def check_profiles(
    settings: Settings,
    profiles: Sequence[tuple[str, ModelProfile]] | None = None,
    *,
    timeout_s: float = CHECK_TIMEOUT_S,
) -> list[ProfileHealth]:
    """The given profiles (else every one, the default first), checked concurrently."""
    named = all_profiles(settings) if profiles is None else profiles
    checks = (_check(name, profile, timeout_s) for name, profile in named)
    return list(await asyncio.gather(*checks))


async def chain_problem(
    settings: Settings, name: str | None = None, *, timeout_s: float = CHECK_TIMEOUT_S
) -> str | None:
    """Why no profile `name` would be answered by is up (None when one is): for /ready."""
    checks = await check_profiles(settings, chain(settings, name), timeout_s=timeout_s)
    if any(c.reachable for c in checks):
        return None
    return "; ".join(f"{c.name}: {c.reason}" for c in checks)


async def _check(name: str, profile: ModelProfile, timeout_s: float) -> ProfileHealth:
    quick = profile.model_copy(update={"max_retries": 0, "timeout_s": timeout_s})
    base_url = profile.base_url or ""
    try:
        model = build_profile(name, quick)
    except LlmorchError as exc:
        return ProfileHealth(name, profile.provider, base_url, profile.model, False, exc.message)
    began = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            offered = await model.list_models()
        latency_ms = (time.perf_counter() - began) * 1000
        capabilities = await _capabilities(model, timeout_s)
    except TimeoutError:
        reason = f"no answer within {timeout_s:g}s"
        return ProfileHealth(name, model.provider, model.base_url, profile.model, False, reason)
    except LlmorchError as exc:
        return ProfileHealth(
            name, model.provider, model.base_url, profile.model, False, exc.message
        )
    finally:
        await model.aclose()
    return ProfileHealth(
        name,
        model.provider,
        model.base_url,
        profile.model,
        True,
        latency_ms=round(latency_ms, 1),
        models=offered,
        capabilities=capabilities,
    )


async def _capabilities(model: ChatModel, timeout_s: float) -> ModelCapabilities:
    """What the server tells, if it tells in time; a slow answer here is not a dead server."""
    try:
        async with asyncio.timeout(timeout_s):
            return await model.capabilities()
    except TimeoutError:
        return ModelCapabilities()
