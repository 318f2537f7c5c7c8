"""Run records from a real agent run: the real llama.cpp server, the real tool loop, and a hybrid
index over real semantic vectors, so whatever words the small model searches with, its search
returns the nearest passages and the record shows them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from indexed_vault import LLMORCH, indexed_vault_env

if TYPE_CHECKING:
    from conftest import EmbeddingServer, LlamaServer

pytestmark = pytest.mark.integration

NOTES = {
    "Backup strategy.md": (
        "# Backup strategy\n\n## Schedule\n\n"
        "Restic backs up the laptop every night at 02:30 to the NAS called bramble.\n"
    ),
    "Garden.md": "# Garden\n\nWater the tomatoes on Tuesdays and Fridays.\n",
}


def _llmorch(env: dict[str, str], *args: str) -> Any:
    done = subprocess.run(
        [str(LLMORCH), *args], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_an_agent_ask_is_recorded_with_its_model_calls_tool_calls_and_hits(
    tmp_path: Path, llama_server: LlamaServer, embedding_server: EmbeddingServer
) -> None:
    llm = {
        "base_url": llama_server.base_url,
        "model": llama_server.model,
        "temperature": 0.0,
        "max_retries": 0,
        "max_tool_iterations": 1,
        "timeout_s": 600,
    }
    env = indexed_vault_env(
        tmp_path,
        NOTES,
        llm,
        XDG_STATE_HOME=str(tmp_path / "state"),
        LLMORCH_EMBEDDING__BASE_URL=embedding_server.base_url,
        LLMORCH_EMBEDDING__MODEL=embedding_server.model,
    )
    question = "Use the search_knowledge_base tool to find when restic backs up the laptop."
    answer = _llmorch(env, "ask", "--mode", "agent", "--json", "-q", question)
    record = _llmorch(env, "runs", "show", answer["run_id"], "--json")

    assert record["status"] == "ok" and record["input"]["query"] == question
    assert record["trigger"] == "cli" and record["workflow"] == "agent"
    assert record["model_calls"], "no model call recorded"
    assert all(c["model"] and c["latency_ms"] > 0 for c in record["model_calls"])
    assert record["prompt_tokens"] == sum(c["prompt_tokens"] for c in record["model_calls"])
    assert [t["name"] for t in record["tool_calls"]] == [c["name"] for c in answer["tool_calls"]]
    if not record["tool_calls"]:
        pytest.fail(f"the model answered without a tool call: {answer['answer'][:200]!r}")
    # Each search that ran is recorded with the passages it returned (a tiny model's made-up tag
    # may find none, and a made-up collection fails before searching).
    searches = [t for t in record["tool_calls"] if t["name"] == "search_knowledge_base" and t["ok"]]
    assert len(record["retrievals"]) == len(searches)
    for search, retrieval in zip(searches, record["retrievals"], strict=True):
        assert retrieval["query"] == search["arguments"]["query"]
        for hit in retrieval["hits"]:
            assert hit["path"] in NOTES and hit["path"] in search["result_excerpt"]
    steps = {s["span_id"]: s["name"] for s in record["steps"]}
    assert {steps[t["span_id"]] for t in record["tool_calls"]} == {"tool_call"}

    tree = subprocess.run(
        [str(LLMORCH), "runs", "show", answer["run_id"]], env=env, capture_output=True, text=True
    ).stdout
    assert f"tool {record['tool_calls'][0]['name']}" in tree
