"""CLI fixtures: a generated vault, a config pointing at tmp dirs and a scripted model server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cli_invoke import Invoke
from loguru import logger
from scripted_llm import ScriptedLlm
from typer.testing import CliRunner, Result

from llmorch.cli.app import app

NOTES = {
    "Backup strategy.md": (
        "---\ntags: [homelab, backup]\n---\n# Backup strategy\n\n"
        "## Schedule\n\nRestic snapshots run nightly at 02:30 to the NAS.\n\n"
        "## Retention\n\nKeep 7 daily and 4 weekly snapshots.\n"
    ),
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays. #garden\n",
    "projects/Llmorch.md": (
        "# Llmorch\n\n## Goals\n\nA local-first CLI answering from Obsidian notes. #project\n"
    ),
}


@pytest.fixture(autouse=True)
def no_leftover_log_sinks() -> Iterator[None]:
    """The CLI points loguru at the runner's stderr; drop that sink once the runner closes it."""
    yield
    logger.remove()


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    root = tmp_path / "vault"
    for name, text in NOTES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    (root / "photo.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    return root


@pytest.fixture
def llm() -> Iterator[ScriptedLlm]:
    with ScriptedLlm() as server:
        yield server


@pytest.fixture
def config(tmp_path: Path, llm: ScriptedLlm) -> Path:
    path = tmp_path / "config.yaml"
    data = {
        "llm": {"base_url": llm.base_url, "max_retries": 0, "timeout_s": 10},
        "store": {"path": str(tmp_path / "qdrant")},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def cli(config: Path) -> Invoke:
    """Run `llmorch --config <tmp config> ARGS...` in-process; stdout and stderr kept apart."""
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None) -> Result:
        return runner.invoke(app, ["--config", str(config), *args], input=input)

    return invoke


@pytest.fixture
def indexed(cli: Invoke, vault: Path) -> Path:
    result = cli("ingest", str(vault))
    assert result.exit_code == 0, result.output
    return vault
