from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmorch.cli.app import app

COMMANDS = [
    ["ask"],
    ["chat"],
    ["search"],
    ["ingest"],
    ["tools", "list"],
    ["tools", "show"],
    ["tools", "run"],
    ["config", "show"],
    ["config", "path"],
    ["config", "init"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_shows_an_example(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert f"llmorch {command[0]}" in result.stdout


def test_ask_help_keeps_the_citation_mark_visible() -> None:
    assert "citing them as [n]" in CliRunner().invoke(app, ["ask", "--help"]).stdout


def test_help_does_not_import_the_model_client_or_the_index() -> None:
    """`llmorch --help` must stay cheap: openai, qdrant and pydantic-settings load only on use."""
    probe = (
        "import sys; sys.argv = ['llmorch', '--help']\n"
        "from llmorch.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = {'openai', 'anthropic', 'qdrant_edge', 'qdrant_client', 'pydantic_settings',"
        " 'llmorch.llm.client', 'llmorch.llm.providers.openai_compat'}\n"
        "print(sorted(heavy & set(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=Path.cwd()
    )
    assert done.stdout.strip().splitlines()[-1] == "[]"
