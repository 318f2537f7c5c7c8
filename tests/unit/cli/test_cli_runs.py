"""`llmorch runs`: every ask, tool call and ingest leaves a record that can be listed, searched,
shown as a tree, exported and pruned — and a broken record never breaks the command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from cli_invoke import Invoke
from scripted_llm import Reply, ScriptedLlm

from llmorch import paths
from llmorch.runs import recorder


def _json(cli: Invoke, *args: str) -> Any:
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _cite_first_tool_source(body: dict[str, Any]) -> Reply:
    tool_turns = [m for m in body["messages"] if m["role"] == "tool"]
    passages = json.loads(tool_turns[-1]["content"])
    return Reply(text=f"Snapshots run nightly at 02:30 [{passages[0]['source']}].")


def test_ask_json_names_its_run_and_the_record_holds_prompt_answer_and_hits(
    cli: Invoke, indexed: Path
) -> None:
    answer = _json(cli, "ask", "-q", "when do backups run?", "--json")
    record = _json(cli, "runs", "show", answer["run_id"], "--json")
    assert (record["workflow"], record["status"], record["trigger"]) == ("qa", "ok", "cli")
    assert len(record["definition_hash"]) > 8
    assert record["trace_id"] == answer["trace_id"]
    assert record["input"]["query"] == "when do backups run?"
    assert record["output"]["answer"] == answer["answer"]
    [call] = record["model_calls"]
    assert "when do backups run?" in call["messages"][-1]["content"]
    assert (call["answer"], call["prompt_tokens"]) == (answer["answer"], 11)
    [search] = record["retrievals"]
    assert search["hits"][0]["path"] == answer["sources"][0]["path"]
    steps = [s["name"] for s in record["steps"]]
    assert steps == ["prepare", "retrieve", "answer", "cite", "ask-rag"]


def test_an_agent_run_shows_model_calls_tool_calls_and_hits_as_one_tree(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.replies.append(Reply(tool_calls=[("search_knowledge_base", {"query": "restic nightly"})]))
    llm.script = _cite_first_tool_source
    answer = _json(cli, "ask", "-q", "when do backups run?", "--mode", "agent", "--json")
    record = _json(cli, "runs", "show", answer["run_id"], "--json")
    spans = {s["span_id"]: s["name"] for s in record["steps"]}
    assert [spans[c["span_id"]] for c in record["model_calls"]] == ["llm_turn", "llm_turn"]
    [tool] = record["tool_calls"]
    assert (spans[tool["span_id"]], tool["name"], tool["ok"]) == (
        "tool_call",
        "search_knowledge_base",
        True,
    )
    assert '"source": "Backup strategy.md' in tool["result_excerpt"]
    [search] = record["retrievals"]
    assert spans[search["span_id"]] == "tool_call"
    assert search["query"] == "restic nightly"

    tree = cli("runs", "show", answer["run_id"][:12]).stdout
    lines = tree.splitlines()
    at = {name: next(i for i, line in enumerate(lines) if name in line)
          for name in ("tool_loop", "tool search_knowledge_base", "search 'restic nightly'")}  # fmt: skip
    assert at["tool_loop"] < at["tool search_knowledge_base"] < at["search 'restic nightly'"]
    assert "Backup strategy.md" in tree and "model scripted-model" in tree


def test_runs_list_filters_by_workflow_status_time_and_text(
    cli: Invoke, indexed: Path, llm: ScriptedLlm
) -> None:
    cli("ask", "-q", "zucchini planting?")
    llm.replies.append(Reply(error_status=500, text="model crashed"))
    assert cli("ask", "-q", "tomatoes?").exit_code == 5
    cli("tools", "run", "search_knowledge_base", "--args", '{"query": "garden"}')
    everything = _json(cli, "runs", "list", "--json")
    assert [r["workflow"] for r in everything] == [
        "tool:search_knowledge_base", "qa", "qa", "ingest",
    ]  # fmt: skip
    [failed] = _json(cli, "runs", "list", "--status", "failed", "--json")
    assert (failed["error_kind"], failed["exit_code"]) == ("llm", 5)
    assert "tomatoes" in failed["input"]
    [found] = _json(cli, "runs", "list", "-q", "zucchini", "--json")
    assert found["status"] == "ok"
    assert len(_json(cli, "runs", "list", "-w", "qa", "--since", "1h", "--json")) == 2
    assert len(_json(cli, "runs", "list", "-n", "1", "--json")) == 1
    piped = cli("runs", "list", "--status", "failed").stdout
    assert piped.split("\t")[0] == failed["id"]


def test_rerun_repeats_a_workflow_run_with_its_input_as_a_new_linked_run(
    cli: Invoke, indexed: Path
) -> None:
    first = _json(cli, "ask", "-q", "when do backups run?", "--json")
    again = _json(cli, "runs", "rerun", first["run_id"], "--json")
    assert again["rerun_of"] == first["run_id"] and again["run_id"] != first["run_id"]
    assert again["output"]["answer"] == first["answer"]
    record = _json(cli, "runs", "show", again["run_id"], "--json")
    assert record["parent_id"] == first["run_id"]
    assert record["input"]["query"] == "when do backups run?"
    [ingest] = _json(cli, "runs", "list", "-w", "ingest", "--json")
    refused = cli("runs", "rerun", ingest["id"])
    assert refused.exit_code == 10 and "not a workflow" in refused.stderr


def test_export_writes_the_whole_record_and_prune_deletes_old_runs(
    cli: Invoke, indexed: Path, tmp_path: Path
) -> None:
    [ingest] = _json(cli, "runs", "list", "--json")
    target = tmp_path / "run.json"
    assert cli("runs", "export", ingest["id"], "-o", str(target)).exit_code == 0
    exported = json.loads(target.read_text())
    assert exported["output"]["collection"] == "notes" and exported["steps"] == []
    assert "deleted 0 runs" in cli("runs", "prune", "--older-than", "1d").stderr
    time.sleep(1.1)
    assert "deleted 1 run " in cli("runs", "prune", "--older-than", "1s").stderr
    assert _json(cli, "runs", "list", "--json") == []


def test_an_unknown_id_is_exit_10_and_a_bad_age_a_usage_error(cli: Invoke) -> None:
    result = cli("runs", "show", "01NOPE")
    assert result.exit_code == 10
    assert result.stderr.startswith("error: no run with id '01NOPE'")
    assert cli("runs", "list", "--since", "yesterday").exit_code == 2


def test_a_corrupt_database_does_not_stop_an_ask_and_is_reported_once(
    cli: Invoke, indexed: Path
) -> None:
    db = paths.state_dir() / "runs.db"
    for extra in db.parent.glob("runs.db-*"):
        extra.unlink()
    recorder._stores.pop(db).close()  # pyright: ignore[reportPrivateUsage]
    db.write_bytes(b"garbage " * 4096)
    result = cli("ask", "-q", "when do backups run?", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] is None
    assert result.stderr.count("run records are off") == 1
    listing = cli("runs", "list")
    assert listing.exit_code == 10
    assert "cannot read run records at" in listing.stderr


def test_a_run_killed_mid_answer_is_listed_as_interrupted(
    cli: Invoke, config: Path, indexed: Path, llm: ScriptedLlm
) -> None:
    llm.chunk_delay = 0.5  # a slow model: the answer takes seconds to stream
    ask = subprocess.Popen(
        [sys.executable, "-m", "llmorch", "--config", str(config), "ask", "-q", "backups?"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 30
        while not any(r["workflow"] == "qa" for r in _json(cli, "runs", "list", "--json")):
            assert time.monotonic() < deadline and ask.poll() is None
            time.sleep(0.1)
        [running] = _json(cli, "runs", "list", "-w", "qa", "--json")
        assert running["status"] == "running"
        while len(llm.requests) == 0:
            time.sleep(0.05)
    finally:
        ask.send_signal(signal.SIGKILL)
        ask.communicate(timeout=10)
    [killed] = _json(cli, "runs", "list", "--status", "interrupted", "--json")
    assert killed["id"] == running["id"]
    assert "stopped before it finished" in killed["error_message"]
