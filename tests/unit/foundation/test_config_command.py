"""`llmorch config path` names the file the other commands read, whichever way it was chosen."""

from __future__ import annotations

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
