"""`llmorch config path` names the file the other commands read, whichever way it was chosen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmorch.cli.app import app

runner = CliRunner()


def test_config_path_is_the_file_given_with_the_config_option(tmp_path: Path) -> None:
    chosen = tmp_path / "work.yaml"
    result = runner.invoke(app, ["--config", str(chosen), "config", "path"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{chosen}\n"


def test_config_path_follows_the_env_var_then_the_xdg_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    default = tmp_path / "xdg" / "config" / "llmorch" / "config.yaml"
    assert runner.invoke(app, ["config", "path"]).stdout == f"{default}\n"
    monkeypatch.setenv("LLMORCH_CONFIG", str(tmp_path / "env.yaml"))
    assert runner.invoke(app, ["config", "path"]).stdout == f"{tmp_path / 'env.yaml'}\n"


def test_config_init_expands_home_in_the_config_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["--config", "~/llmorch.yaml", "config", "init"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "home" / "llmorch.yaml").is_file()
    assert not (tmp_path / "~").exists()


def test_config_show_piped_keeps_long_values_whole(tmp_path: Path) -> None:
    url = "http://a-rather-long-host-name.internal.example:8080/v1/with/a/long/path"
    config = tmp_path / "c.yaml"
    config.write_text(f"llm:\n  base_url: {url}\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if line.startswith("llm.base_url"))
    assert line == f'llm.base_url = "{url}"  # config file {config}'


def test_a_config_file_that_is_not_utf8_is_one_error_line_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_bytes("llm:\n  model: café\n".encode("latin-1"))
    result = runner.invoke(app, ["--config", str(config), "config", "show"])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: config file {config}: not valid UTF-8")
    assert "Traceback" not in result.stderr


def test_a_password_inside_a_configured_url_is_never_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMORCH_LLM__BASE_URL", "http://bob:s3cr3t-pw@127.0.0.1:1/v1")
    monkeypatch.setenv("LLMORCH_STORE__PATH", str(tmp_path / "qdrant"))
    for args in (
        ["config", "show"],
        ["config", "show", "--json"],
        ["ask", "-q", "x", "--mode", "agent"],
    ):
        result = runner.invoke(app, args)
        assert "s3cr3t-pw" not in result.stdout + result.stderr, args
        assert "bob:[REDACTED]@127.0.0.1" in result.stdout + result.stderr, args


def test_config_show_names_a_section_set_as_json_and_a_null_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("llm:\n  model: null\n", encoding="utf-8")
    monkeypatch.setenv(
        "LLMORCH_EMBEDDING", '{"base_url": "http://127.0.0.1:9/v1", "model": "nomic"}'
    )
    result = runner.invoke(app, ["--config", str(config), "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["embedding.model"]["source"] == "env LLMORCH_EMBEDDING"
    assert shown["embedding.batch_size"]["source"] == "default"
    assert shown["llm.model"] == {"value": None, "source": f"config file {config}"}
