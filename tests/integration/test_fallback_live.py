"""Fallback with the real llama-cpp-python server as one profile and a dead port as the other.

Prints the switch time: how long the dead profile cost before the live one was asked (the goal
after a refused connection is under a second).
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from llmorch.cli.app import app
from llmorch.config import LlmSettings, ModelProfile, Settings
from llmorch.errors import LlmError
from llmorch.llm.fallback import FallbackModel
from llmorch.llm.messages import SystemMessage, UserMessage
from llmorch.llm.profiles import build_chat_model
from llmorch.llm.stream import StreamDone, TextDelta

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

QUESTION = [
    SystemMessage(content="You are a helpful assistant. Answer briefly."),
    UserMessage(content="What is the capital of France?"),
]


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def _settings(llama: LlamaServer, order: list[str]) -> Settings:
    profiles = {
        "home": ModelProfile(base_url=_dead_url(), model="qwen3", max_retries=2),
        "live": ModelProfile(base_url=llama.base_url, model=llama.model, max_retries=2),
    }
    return Settings(
        llm=LlmSettings(model=order[0], fallback=order[1:], temperature=0.0),
        models=profiles,
    )


def _switch_ms(notes: list[str]) -> float:
    return float(notes[0].split("failed after ")[1].split(" ms")[0])


async def test_a_dead_home_server_falls_back_to_the_live_one(llama_server: LlamaServer) -> None:
    notes: list[str] = []
    model = build_chat_model(_settings(llama_server, ["home", "live"]), on_switch=notes.append)
    assert isinstance(model, FallbackModel)
    began = time.perf_counter()
    completion = await model.complete(QUESTION, max_tokens=16)
    total_ms = (time.perf_counter() - began) * 1000
    await model.aclose()
    assert completion.message.content
    assert (model.answered, completion.provider) == ("live", "openai")
    assert len(notes) == 1 and "cannot reach the LLM" in notes[0]
    print(
        f"\nswitch after a refused connection (complete): {_switch_ms(notes):.1f} ms; whole answer {total_ms:.0f} ms"
    )
    assert _switch_ms(notes) < 1000


async def test_a_dead_home_server_falls_back_before_the_first_streamed_token(
    llama_server: LlamaServer,
) -> None:
    notes: list[str] = []
    model = build_chat_model(_settings(llama_server, ["home", "live"]), on_switch=notes.append)
    began = time.perf_counter()
    first_token_ms: float | None = None
    events = []
    async for event in model.stream(QUESTION, max_tokens=16):
        if first_token_ms is None and isinstance(event, TextDelta):
            first_token_ms = (time.perf_counter() - began) * 1000
        events.append(event)
    await model.aclose()
    assert isinstance(events[-1], StreamDone) and events[-1].completion.message.content
    print(
        f"\nswitch after a refused connection (stream): {_switch_ms(notes):.1f} ms; first token at {first_token_ms:.0f} ms"
    )
    assert _switch_ms(notes) < 1000


@pytest.mark.parametrize("stream", [False, True])
async def test_a_live_first_profile_answers_without_touching_the_dead_one(
    llama_server: LlamaServer, stream: bool
) -> None:
    notes: list[str] = []
    model = build_chat_model(_settings(llama_server, ["live", "home"]), on_switch=notes.append)
    if stream:
        events = [e async for e in model.stream(QUESTION, max_tokens=16)]
        assert isinstance(events[-1], StreamDone)
    else:
        assert (await model.complete(QUESTION, max_tokens=16)).message.content
    await model.aclose()
    assert notes == []
    assert isinstance(model, FallbackModel) and model.answered == "live"


async def test_a_client_error_on_the_live_server_is_not_passed_to_the_next(
    llama_server: LlamaServer,
) -> None:
    notes: list[str] = []
    model = build_chat_model(_settings(llama_server, ["live", "home"]), on_switch=notes.append)
    too_long = [UserMessage(content="restic backup snapshot " * 3000)]
    with pytest.raises(LlmError) as caught:
        await model.complete(too_long, max_tokens=8)
    await model.aclose()
    assert "not passed to home: a client error would fail the same way there" in str(caught.value)
    assert notes == []


def test_models_lists_both_profiles_within_a_second(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"llm:\n  base_url: {llama_server.base_url}\n  model: home\n  fallback: [live]\n"
        f"models:\n  home:\n    base_url: {_dead_url()}\n    model: qwen3\n"
        f"  live:\n    base_url: {llama_server.base_url}\n    model: {llama_server.model}\n",
        encoding="utf-8",
    )
    began = time.perf_counter()
    result = CliRunner().invoke(app, ["--config", str(config), "models", "--json"])
    took_ms = (time.perf_counter() - began) * 1000
    assert result.exit_code == 0, result.output
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert set(checks) == {"default", "home", "live"}
    assert not checks["home"]["reachable"] and "cannot reach" in checks["home"]["reason"]
    assert checks["live"]["reachable"] and checks["live"]["models"]
    print(f"\nllmorch models with one server down: {took_ms:.0f} ms")
    assert took_ms < 1000


def test_ask_json_names_the_model_and_provider_that_answered(
    llama_server: LlamaServer, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"llm:\n  model: home\n  fallback: [live]\n  temperature: 0\n"
        f"models:\n  home:\n    base_url: {_dead_url()}\n    model: qwen3\n"
        f"  live:\n    base_url: {llama_server.base_url}\n    model: {llama_server.model}\n"
        f"    tools: false\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["--config", str(config), "ask", "--mode", "agent", "--json", "-q", "Say hello."]
    )
    printed = json.loads(result.stdout)
    assert result.exit_code == 0, result.output
    assert printed["provider"] == "openai"
    assert printed["model"]
    assert "note: home failed after" in result.stderr
