"""Server fixtures: a small vault, the scripted OpenAI-compatible model from the CLI tests, and
`llmorch serve` running over them as a real process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# The scripted model server lives with the CLI tests; both suites drive the same fake model.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))

from scripted_llm import ScriptedLlm

NOTES = {
    "Backup strategy.md": "# Backup strategy\n\nRestic backs up the vault nightly at 02:30 to bramble.\n",
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays.\n",
}


@pytest.fixture(scope="module")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vault")
    for name, text in NOTES.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedLlm]:
    with ScriptedLlm() as server:
        yield server


@pytest.fixture(autouse=True)
def fresh_script(model: ScriptedLlm) -> None:
    """Each test starts with no scripted replies pending and no requests seen."""
    model.replies.clear()
    model.requests.clear()
