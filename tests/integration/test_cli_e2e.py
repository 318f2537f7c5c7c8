"""The installed `llmorch` command end to end, as whole processes, against the real llama.cpp server.

SmolLM2-135M is tiny: these tests check what the CLI guarantees (exit codes, JSON shape, the
expected note among the sources, piped input), not whether the model's answer is right.
"""

from __future__ import annotations

import json
import socket
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
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays and Fridays.\n",
    "Tea.md": "# Tea\n\nGreen tea steeps for two minutes at 80 degrees.\n",
}


@pytest.fixture
def env(tmp_path: Path, llama_server: LlamaServer) -> dict[str, str]:
    llm = {
        "base_url": llama_server.base_url,
        "model": llama_server.model,
        "temperature": 0.0,
        "max_retries": 0,
    }
    return indexed_vault_env(tmp_path, NOTES, llm)


def llmorch(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LLMORCH), *args], env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def test_rag_json_answer_lists_the_note_that_holds_the_fact(env: dict[str, str]) -> None:
    done = llmorch(
        env,
        "ask",
        "--mode",
        "rag",
        "--json",
        "--limit",
        "2",
        "-q",
        "When does restic back up the laptop?",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["status"] == "ok" and data["exit_code"] == 0
    assert data["answer"].strip()
    assert "Backup strategy.md" in [s["path"] for s in data["sources"]]
    assert data["usage"]["completion_tokens"] > 0
    assert len(data["trace_id"]) == 32


def test_question_piped_on_stdin_is_answered_as_plain_text(env: dict[str, str]) -> None:
    done = llmorch(env, "ask", "--limit", "2", stdin="How long does green tea steep?\n")
    assert done.returncode == 0, done.stderr
    answer, _, sources = done.stdout.partition("\nSources:\n")
    assert answer.strip()
    assert "Tea.md" in sources
    assert "\x1b[" not in done.stdout


def test_a_stopped_llm_server_is_exit_4_with_a_one_line_message(env: dict[str, str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]
    stopped = {**env, "LLMORCH_LLM__BASE_URL": f"http://127.0.0.1:{closed_port}/v1"}
    done = llmorch(stopped, "ask", "-q", "When does restic run?")
    assert done.returncode == 4
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and f"127.0.0.1:{closed_port}" in errors[0]
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_run_qa_is_ask_through_the_workflow_registry_with_its_steps_timed(
    env: dict[str, str],
) -> None:
    fields = ["query=When does restic back up the laptop?", "tags=homelab", "limit=2"]
    done = llmorch(env, "run", "qa", *fields, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    output = data["output"]
    assert output["answer"].strip() and output["mode"] == "rag"
    assert [s["path"] for s in output["sources"]] == ["Backup strategy.md"]  # tags=homelab only
    assert output["usage"]["completion_tokens"] > 0
    assert set(data["timings_ms"]) == {"prepare", "retrieve", "answer", "cite", "total"}
    assert len(data["trace_id"]) == 32
