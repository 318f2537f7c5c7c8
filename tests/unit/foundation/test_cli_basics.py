from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmorch import __version__
from llmorch.cli.app import app

runner = CliRunner()


def test_version_as_a_real_process() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "llmorch", "--version"], capture_output=True, text=True, check=True
    )
    assert done.stdout == f"llmorch {__version__}\n"


def test_version_through_typer_too() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_config_error_is_one_line_and_exit_code_3(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("llm:\n  nope: 1\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(bad), "config", "show"])
    assert result.exit_code == 3
    assert "llm.nope: unknown key" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_show_redacts_secrets_and_names_sources(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("llm:\n  api_key: sk-very-secret-1234\n", encoding="utf-8")
    result = runner.invoke(app, ["--config", str(config), "config", "show", "--json"])
    assert result.exit_code == 0, result.output
    assert "sk-very-secret-1234" not in result.stdout
    assert '"source": "config file' in result.stdout


def test_config_init_never_overwrites_without_force(tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    assert runner.invoke(app, ["--config", str(target), "config", "init"]).exit_code == 0
    target.write_text("llm: {}\n", encoding="utf-8")
    refused = runner.invoke(app, ["--config", str(target), "config", "init"])
    assert refused.exit_code == 3
    assert target.read_text(encoding="utf-8") == "llm: {}\n"
    assert runner.invoke(app, ["--config", str(target), "config", "init", "--force"]).exit_code == 0
    assert "max_tool_iterations" in target.read_text(encoding="utf-8")


def test_unusable_log_file_or_env_list_is_one_line_and_exit_code_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLMORCH_LOGGING__FILE", str(tmp_path))  # a folder, not a file
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 3
    assert result.stderr.startswith(f"error: cannot open log file {tmp_path}")
    assert "Traceback" not in result.stderr

    monkeypatch.delenv("LLMORCH_LOGGING__FILE")
    monkeypatch.setenv("LLMORCH_INGEST__PATHS", "~/vault")
    result = runner.invoke(app, ["config", "show"])
    assert result.exit_code == 3
    assert "env LLMORCH_INGEST__PATHS: ingest.paths: not valid JSON" in result.stderr
