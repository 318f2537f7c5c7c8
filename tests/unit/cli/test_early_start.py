"""`search` and `ask` open the index in a thread while the CLI imports; run as real processes, since
the early start happens in the console entry point, before Typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cli_invoke import Invoke

from llmorch.cli.early import EarlyStart
from llmorch.retrieval.edge import EdgeStore


def run_llmorch(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m llmorch ARGS` with the config from the environment, as a user's shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "llmorch", *args],
        env={**os.environ, "LLMORCH_CONFIG": str(config), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_search_answers_from_the_index_opened_while_the_cli_imported(
    config: Path, indexed: Path
) -> None:
    result = run_llmorch(config, "-vv", "search", "restic snapshots", "--json")
    assert result.returncode == 0, result.stderr
    assert "Backup strategy.md" in result.stdout
    assert "opened while the command started" in result.stderr


def test_a_busy_index_met_early_is_reported_as_the_command_would(
    config: Path, indexed: Path, tmp_path: Path
) -> None:
    data = yaml.safe_load(config.read_text("utf-8"))
    data["store"]["busy_timeout_s"] = 0.2
    config.write_text(yaml.safe_dump(data), "utf-8")
    holder = EdgeStore.open(tmp_path / "qdrant", "notes")
    try:
        result = run_llmorch(config, "search", "restic")
    finally:
        holder.close()
    assert result.returncode == 6
    assert "is busy" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_usage_error_closes_the_index_opened_early(config: Path, indexed: Path) -> None:
    result = run_llmorch(config, "search")
    assert result.returncode == 2
    assert "give something to look for" in result.stderr
    # Nothing is left holding the index: another process opens it at once.
    EdgeStore.open(Path(yaml.safe_load(config.read_text())["store"]["path"]), "notes").close()


@pytest.mark.parametrize(
    "argv",
    [
        ["ingest", "notes/"],
        ["search", "--collection", "other", "x"],
        ["search", "--related", "Garden"],
        ["ask", "--no-rag", "-q", "hi"],
        ["--config", "other.yaml", "search", "x"],
        ["search", "--help"],
        [],
    ],
)
def test_commands_that_do_not_search_the_default_index_start_nothing_early(
    argv: list[str],
) -> None:
    assert EarlyStart.start(argv) is None


def test_in_process_commands_open_the_index_themselves(cli: Invoke, indexed: Path) -> None:
    result = cli("search", "tomatoes", "--json")
    assert result.exit_code == 0, result.output
    assert "Garden.md" in result.stdout


def test_ask_before_any_ingest_answers_from_the_model_alone(config: Path) -> None:
    result = run_llmorch(config, "ask", "-q", "anything there?", "--json")
    assert result.returncode == 0, result.stderr
    assert '"status": "no_index"' in result.stdout


def test_ask_with_a_schema_uses_the_index_opened_early(config: Path, indexed: Path) -> None:
    # The scripted model does not answer in JSON: what matters is that the index is not "busy".
    result = run_llmorch(config, "ask", "-q", "when do backups run?", "--schema", "task")
    assert "is busy" not in result.stderr
