"""Workflow fixtures: a config whose workflows.paths is a folder of the test's own files."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from loguru import logger
from typer.testing import CliRunner, Result
from workflow_kit import NotesInMemory

from llmorch.cli.app import app
from llmorch.workflows.registry import USER_MODULE_PREFIX


@pytest.fixture(autouse=True)
def forget_user_modules() -> Iterator[None]:
    """Each test imports its own files under the same module names; the CLI's log sink goes too."""
    yield
    for name in [m for m in sys.modules if m.startswith((USER_MODULE_PREFIX, "acme_flows"))]:
        del sys.modules[name]
    logger.remove()


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    return folder


@pytest.fixture
def config(tmp_path: Path, flows: Path) -> Path:
    path = tmp_path / "config.yaml"
    data = {"workflows": {"paths": [str(flows)]}, "store": {"path": str(tmp_path / "qdrant")}}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


class Cli:
    """`llmorch --config <tmp config> ARGS...` in-process, stdout and stderr kept apart."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None) -> Result:
        return self.runner.invoke(app, ["--config", str(self.config), *args], input=input)


@pytest.fixture
def cli(config: Path) -> Cli:
    return Cli(config)


@pytest.fixture
def notes() -> NotesInMemory:
    return NotesInMemory()
