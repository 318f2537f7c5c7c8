"""Profiles: a name becomes the right model; bad profile config is one ConfigError naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmorch.cli.app import app
from llmorch.config import load_config
from llmorch.errors import ConfigError
from llmorch.llm.fallback import FallbackModel
from llmorch.llm.profiles import build_chat_model

HOME_AND_CLOUD = """
llm:
  model: home
  fallback: [claude]
models:
  home:
    base_url: http://192.168.1.20:8080/v1
    model: qwen3-8b
  claude:
    provider: anthropic
    model: claude-sonnet-4-5
    api_key_env: TEST_ANTHROPIC_KEY
"""


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_llm_model_names_a_profile_and_fallback_chains_the_next(tmp_path: Path) -> None:
    settings = load_config(_config(tmp_path, HOME_AND_CLOUD)).settings
    model = build_chat_model(settings)
    assert isinstance(model, FallbackModel)
    assert (model.answered, model.provider, model.base_url) == (
        "home",
        "openai",
        "http://192.168.1.20:8080/v1",
    )
    assert await model.model() == "qwen3-8b"
    await model.aclose()


async def test_a_name_that_is_no_profile_is_a_model_on_the_default_server(tmp_path: Path) -> None:
    settings = load_config(_config(tmp_path, "llm:\n  base_url: http://box:8080/v1\n")).settings
    model = build_chat_model(settings, "llama3")
    assert (model.provider, model.base_url, await model.model()) == (
        "openai",
        "http://box:8080/v1",
        "llama3",
    )
    await model.aclose()


async def test_naming_the_fallback_profile_itself_drops_it_from_the_chain(tmp_path: Path) -> None:
    settings = load_config(_config(tmp_path, HOME_AND_CLOUD)).settings
    model = build_chat_model(settings, "claude")
    assert not isinstance(model, FallbackModel)
    assert model.provider == "anthropic"
    await model.aclose()


def test_unknown_provider_names_the_key(tmp_path: Path) -> None:
    config = _config(tmp_path, "models:\n  x:\n    provider: gemini\n    base_url: http://h/v1\n")
    with pytest.raises(
        ConfigError, match=r"models\.x\.provider: Input should be 'openai' or 'anthropic'"
    ):
        load_config(config)


def test_an_openai_profile_needs_a_base_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"models\.x: base_url is required for provider openai"):
        load_config(_config(tmp_path, "models:\n  x:\n    model: m\n"))


def test_fallback_to_a_profile_that_does_not_exist_lists_the_known_ones(tmp_path: Path) -> None:
    text = HOME_AND_CLOUD.replace("fallback: [claude]", "fallback: [claud]")
    with pytest.raises(ConfigError) as caught:
        load_config(_config(tmp_path, text))
    assert "llm.fallback: llm.fallback names 'claud', which is not a profile (claude, home)" in str(
        caught.value
    )


def test_a_fallback_cycle_is_refused(tmp_path: Path) -> None:
    text = HOME_AND_CLOUD.replace("fallback: [claude]", "fallback: [claude, home]")
    with pytest.raises(ConfigError, match=r"llm\.fallback is a cycle: home → claude → home"):
        load_config(_config(tmp_path, text))


def test_a_workflow_fallback_to_an_unknown_profile_is_a_config_error(tmp_path: Path) -> None:
    settings = load_config(_config(tmp_path, HOME_AND_CLOUD)).settings
    with pytest.raises(ConfigError, match="fallback names 'gpt', which is not a profile"):
        build_chat_model(settings, fallback=["gpt"])


def test_keys_from_env_and_file_are_redacted_in_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_ANTHROPIC_KEY", "sk-ant-from-env")
    key_file = tmp_path / "key"
    key_file.write_text("sk-from-file\n", encoding="utf-8")
    text = (
        HOME_AND_CLOUD
        + f"    api_key_file: null\n  file:\n    base_url: http://h/v1\n    api_key_file: {key_file}\n"
    )
    settings = load_config(_config(tmp_path, text)).settings
    assert {"sk-ant-from-env", "sk-from-file"} <= set(settings.secret_values())


def test_a_key_written_in_the_file_is_warned_and_redacted_by_config_show(tmp_path: Path) -> None:
    text = HOME_AND_CLOUD + "    api_key: sk-ant-plain-text-123\n"
    config = _config(tmp_path, text.replace("    api_key_env: TEST_ANTHROPIC_KEY\n", ""))
    result = CliRunner().invoke(app, ["--config", str(config), "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "sk-ant-plain-text-123" not in result.stdout
    assert "warning: models.claude.api_key is written in plain text" in result.stderr
