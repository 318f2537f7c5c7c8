"""`llmorch run qa` as a whole process against the real llama.cpp server: the same answer path
as `ask`, reached through the workflow registry and `run_workflow`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from indexed_vault import LLMORCH, indexed_vault_env

if TYPE_CHECKING:
    from conftest import LlamaServer

pytestmark = pytest.mark.integration

NOTES = {
    "Backup strategy.md": (
        "---\ntags: [homelab]\n---\n# Backup strategy\n\n## Schedule\n\n"
        "Restic backs up the laptop every night at 02:30 to the NAS called bramble.\n"
    ),
    "Garden.md": "---\ntags: [garden]\n---\n# Garden\n\nWater the tomatoes on Tuesdays.\n",
}


def test_run_qa_answers_from_the_tagged_note_with_its_steps_timed(
    tmp_path: Path, llama_server: LlamaServer
) -> None:
    llm = {"base_url": llama_server.base_url, "model": llama_server.model, "temperature": 0.0}
    env = indexed_vault_env(tmp_path, NOTES, llm)
    done = subprocess.run(
        [
            *(str(LLMORCH), "run", "qa", "query=When does restic back up the laptop?"),
            *("tags=homelab", "limit=2", "--json"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    output = data["output"]
    assert output["answer"].strip() and output["mode"] == "rag"
    assert [s["path"] for s in output["sources"]] == ["Backup strategy.md"]  # tags=homelab only
    assert output["usage"]["completion_tokens"] > 0
    assert set(data["timings_ms"]) == {"prepare", "retrieve", "answer", "cite", "total"}
    assert len(data["trace_id"]) == 32
